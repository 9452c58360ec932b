/**
 * The collection script's sandbox-level additions: `host/route-get` takes only
 * IP literals from the swarm and at most ROUTE_GET_MAX of them, the whole
 * script still parses with `sh -n`, and the section run for real on this
 * machine gives what parseRouteGet reads.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { buildCollectScript, ROUTE_GET_MAX, routeGetSection, underlayPeers } from '../../../src/collect/script.js';
import { splitSections } from '../../../src/collect/sections.js';
import { parseRouteGet } from '../../../src/parse/sandbox.js';
import { labSnapshot } from '../../support/lab-fixtures.js';

describe('host/route-get', () => {
  it('passes IP literals only: a hostile address from the swarm never reaches the script', () => {
    const s = routeGetSection(['10.213.0.11', "10.0.0.1'; touch /tmp/pwned; '", '$(id)', '`id`', 'fe80::1', '10.213.0.11']);
    expect(s).toContain('for a in 10.213.0.11 fe80::1; do');
    expect(s).not.toMatch(/pwned|\$\(id\)|`id`/);
    expect(routeGetSection([])).toBe('');
  });

  it('reads at most ROUTE_GET_MAX peers', () => {
    const many = Array.from({ length: 300 }, (_, i) => `10.${Math.floor(i / 250)}.${i % 250}.1`);
    const list = /for a in ([^;]*);/.exec(routeGetSection(many))![1]!.split(' ');
    expect(list).toHaveLength(ROUTE_GET_MAX);
  });

  it("takes the swarm's node addresses and endpoint hosts, once each", () => {
    const c = labSnapshot().cluster;
    expect(underlayPeers(c).sort()).toEqual(['10.213.0.11', '10.213.0.12', '10.213.0.13']);
  });

  it('the whole script parses, and the section run here gives what the parser reads', () => {
    const { script, marker } = buildCollectScript({ dataPathPort: 4789, underlayPeers: ['127.0.0.1'], marker: '@@NDtest@@' });
    execFileSync('sh', ['-n'], { input: script });
    const prelude = `M='${marker}'\nexec 4>&1\nNL='\n'\n${/sec\(\) \{[\s\S]*?\n\}\n/.exec(script)![0]}`;
    const out = execFileSync('sh', ['-s'], { input: `${prelude}${routeGetSection(['127.0.0.1'])}`, encoding: 'utf8' });
    const sec = splitSections(out, marker).sections['host/route-get']!;
    expect(sec.rc).toBe(0);
    expect(parseRouteGet(sec.stdout).items).toEqual([{ dst: '127.0.0.1', dev: 'lo', prefsrc: '127.0.0.1', type: 'local' }]);
  });
});
