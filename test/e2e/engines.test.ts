/**
 * The engines users run: the lab on Docker 26 (its default), on bookworm's
 * 20.10, and a mixed-version swarm as during a rolling upgrade (the manager
 * on 26, the workers on 20.10). The swarm forms and carries overlay traffic
 * across versions; netdoctor names the skew and the package each node's
 * dockerd came from (20.10: Debian's docker.io; 26: an unpacked tree no
 * package owns).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { labDown, labUp, type LabState } from '../lab/lab.js';
import type { Finding } from '../../src/checks/types.js';
import type { Report } from '../../src/report/model.js';
import { check, collect } from './support/netdoctor.js';

const describeFindings = (r: Report) =>
  r.findings
    .filter((f) => f.status !== 'pass')
    .map((f) => `${f.status} ${f.id} ${f.node ?? '-'}→${f.peer ?? '-'} ${f.network ?? '-'}: ${f.detail}`)
    .join('\n');
const skew = (r: Report): Finding => r.findings.find((f) => f.id === 'cluster.engine.skew')!;
const engines = (lab: LabState) => Object.fromEntries(lab.nodes.map((n) => [n.name, n.engine.split('.').slice(0, 2).join('.')]));

afterAll(async () => {
  // The next file gets the default lab again.
  await labDown();
});

describe('a mixed-version swarm (manager on 26, workers on 20.10)', () => {
  let lab: LabState;
  let report: Report;
  it('forms, converges and reports the engines it runs', async () => {
    lab = await labUp(3, 'mixed');
    expect(lab.engine).toBe('mixed');
    expect(engines(lab)).toEqual({ nd1: '26.1', nd2: '20.10', nd3: '20.10' });
    report = (await check()).report;
  });

  it('cluster.engine.skew warns with both versions, and the workers are told to upgrade docker.io to 26', () => {
    const f = skew(report);
    expect(f.status, describeFindings(report)).toBe('warn');
    expect(f.detail).toMatch(/20\.10\.24\S* on nd2 and nd3; 26\.1\.5\S* on nd1\. Different major versions/);
    expect(f.remediation).toMatch(/^Upgrade nd2 and nd3 to 26\.1\.5\S*, managers first/);
    expect(f.remediation).toContain('upgrade docker.io (`apt-get install --only-upgrade docker.io`)');
    expect(f.remediation).not.toContain('docker-ce');
  });

  it('the overlay carries traffic across versions', () => {
    for (const [a, b] of [
      ['nd1', 'nd2'],
      ['nd2', 'nd1'],
      ['nd2', 'nd3'],
    ] as const) {
      const f = report.findings.find((x) => x.id === 'overlay.datapath.reachable' && x.node === a && x.peer === b && x.network === lab.network);
      expect(f?.status, describeFindings(report)).toBe('pass');
    }
  });
});

describe('each engine alone', () => {
  it.each([
    ['20.10', /^20\.10\.24/, { manager: 'dpkg', name: 'docker.io' }],
    ['26', /^26\.1\.5/, { manager: null, name: null }],
  ] as const)('on %s: one version everywhere, and where dockerd came from', async (engine, version, pkg) => {
    const lab = await labUp(3, engine);
    expect(lab.nodes.every((n) => version.test(n.engine))).toBe(true);
    const { snap } = await collect();
    for (const n of snap.nodes) {
      expect(n.host?.dockerVersion).toMatch(version);
      expect(n.host?.dockerPackage, n.name).toMatchObject(pkg);
    }
    const { report } = await check(['--no-probe', '--only', 'cluster']);
    expect(skew(report).status, describeFindings(report)).toBe('pass');
  });
});
