import { spawnSync } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseSince } from '../../../src/bundle/since.js';
import { buildCollectScript, dockerLogSection } from '../../../src/collect/script.js';
import { splitSections } from '../../../src/collect/sections.js';
import { NetdoctorError } from '../../../src/errors.js';
import { tempDir } from './helpers.js';

/** What this lab's dockerd really logs (keys and token made up, shapes real). */
const KEY = '0x3f1c9a0b7e2d4c5f8a9b0c1d2e3f4a5b6c7d8e9f';
const TOKEN = 'SWMTKN-1-3pu6hszjas19xyp7ghgosyx9k8atbfcr8p2is99znpy26u2lkl-1awxwuwd3z9j1z3puu7rcgdbx';
const LOG = [
  'time="2026-11-25T15:00:00.100000000Z" level=info msg="old line"',
  'goroutine 1 [running]: (an old continuation line)',
  'time="2026-11-25T16:30:00.123456789+01:00" level=info msg="15:30 UTC, written with an offset"',
  'time="2026-11-25T15:35:10.826330557Z" level=info msg="New memberlist node - Node:nd1 with config:&{NodeID:e0ffeaf68da6 Keys:[[54 62 168 240 70 255 34 119 47 223 191 208 200 102 39 18] [211 232 111 220 192 182 43 222 35 246 123 114 85 170 103 108]] PacketBufferSize:1400}"',
  `time="2026-11-25T15:36:00.000000000Z" level=error msg="Failed Adding fSA{Src: 10.213.0.11, Dst: 10.213.0.12, Spi: 3, Aead: {Name: rfc4106(gcm(aes)), Key: ${KEY}, ICVLen: 128}}"`,
  `time="2026-11-25T15:37:00Z" level=debug msg="form data: {\\"JoinToken\\":\\"${TOKEN}\\",\\"TaskTemplate\\":{\\"ContainerSpec\\":{\\"Env\\":[\\"DB_PASSWORD=hunter2hunter2\\"]}}}"`,
  'time="2026-11-25T15:38:00Z" level=info msg="pulling from https://robot:s3cr3tpass@registry.example/v2/"',
  '',
].join('\n');

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.cleanup());

/** Run the section's shell under a real sh, with the prelude's helpers it uses. */
function runLog(section: string, shell = 'sh'): { stdout: string; stderr: string; code: number } {
  const script = `have() { command -v "$1" >/dev/null 2>&1; }\n${section.replace('sec host/docker-log ndlog', 'ndlog')}`;
  const r = spawnSync(shell === 'busybox' ? 'busybox' : shell, shell === 'busybox' ? ['sh', '-s'] : ['-s'], {
    input: script,
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { stdout: r.stdout, stderr: r.stderr, code: r.status ?? -1 };
}

const SHELLS = ['sh', ...(spawnSync('busybox', ['true']).status === 0 ? ['busybox'] : [])];

describe('host/docker-log under a real sh', () => {
  for (const shell of SHELLS) {
    it(`${shell}: cuts IPsec and gossip keys, join tokens, env values and URL credentials on the node`, () => {
      const f = tmp.file('docker.log', LOG);
      const r = runLog(dockerLogSection({ lines: 1000 }, { own: [f], syslog: [] }), shell);
      expect(r.code).toBe(0);
      for (const secret of [KEY, TOKEN, '3pu6hszjas19', 'hunter2hunter2', 's3cr3tpass', '54 62 168 240', '211 232 111'])
        expect(r.stdout).not.toContain(secret);
      expect(r.stdout).toContain('Key: <redacted>, ICVLen: 128');
      expect(r.stdout).toContain('Keys:[[<redacted>] [<redacted>]]');
      // The token is cut twice over: as a swarm token and as the value of a key named like one.
      expect(r.stdout).toContain('form data: {\\"JoinToken\\":\\"<redacted>\\",');
      expect(r.stdout).toContain('https://<redacted>@registry.example');
      expect(r.stdout).toContain('Src: 10.213.0.11'); // addresses are not secrets
      expect(r.stdout.split('\n').filter(Boolean)).toHaveLength(LOG.split('\n').filter(Boolean).length);
      expect(r.stderr).toContain(`docker log: ${f} (last 1000 lines)`);
    });

    it(`${shell}: --since keeps lines from the first stamp at or after it (any zone), then the last N`, () => {
      const f = tmp.file('docker.log', LOG);
      const since = Date.parse('2026-11-25T15:30:00Z') / 1000;
      const all = runLog(dockerLogSection({ lines: 1000, since }, { own: [f], syslog: [] }), shell).stdout;
      expect(all).not.toContain('old line');
      expect(all).not.toContain('old continuation');
      expect(all.split('\n')[0]).toContain('written with an offset');
      const tail = runLog(dockerLogSection({ lines: 2, since }, { own: [f], syslog: [] }), shell)
        .stdout.trim()
        .split('\n');
      expect(tail).toHaveLength(2);
      expect(tail[1]).toContain('registry.example');
    });
  }

  it('falls back to syslog files filtered for dockerd, and says when there is no log', () => {
    const syslog = tmp.file(
      'daemon.log',
      `Nov 25 15:00:00 nd1 dockerd[42]: level=error msg="x" ${TOKEN}\nNov 25 15:00:01 nd1 sshd[7]: Accepted key\n`,
    );
    const r = runLog(dockerLogSection({ lines: 10 }, { own: [`${tmp.dir}/missing.log`], syslog: [syslog] }));
    expect(r.stdout.trim()).toBe('Nov 25 15:00:00 nd1 dockerd[42]: level=error msg="x" SWMTKN-<redacted>');
    expect(r.stderr).toContain(`docker log: ${syslog}, dockerd lines`);
    const none = runLog(dockerLogSection({ lines: 10 }, { own: [`${tmp.dir}/a`], syslog: [`${tmp.dir}/b`] }));
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('no docker log found');
  });

  it('the section is framed like every other and parsed back', () => {
    const f = tmp.file('docker.log', LOG);
    const { script, marker } = buildCollectScript({ dataPathPort: 4789, marker: '@@NDTEST@@', dockerLog: { lines: 3 } });
    // Only the prelude and the log section: run them, not the whole collection.
    const prelude = script.slice(0, script.indexOf('sec host/clock'));
    const section = dockerLogSection({ lines: 3 }, { own: [f], syslog: [] });
    const r = spawnSync('sh', ['-s'], { input: `${prelude}\n${section}\nprintf '%s DONE\\n' "$M"\n`, encoding: 'utf8' });
    const out = splitSections(r.stdout, marker);
    expect(out.complete).toBe(true);
    expect(out.sections['host/docker-log']!.rc).toBe(0);
    expect(out.sections['host/docker-log']!.stdout.trimEnd().split('\n')).toHaveLength(3);
    expect(out.sections['host/docker-log']!.stderr).toContain('docker log:');
  });
});

describe('who asks for the log', () => {
  it('only scripts built with dockerLog carry the section', () => {
    expect(buildCollectScript({ dataPathPort: 4789 }).script).not.toContain('host/docker-log');
    expect(buildCollectScript({ dataPathPort: 4789, dockerLog: { lines: 5 } }).script).toContain('sec host/docker-log ndlog');
    expect(buildCollectScript({ dataPathPort: 4789, dockerLog: { lines: 0 } }).script).not.toContain('host/docker-log');
    expect(buildCollectScript({ dataPathPort: 4789, dockerLog: { lines: 7, since: 1700000000 } }).script).toContain(
      'journalctl _COMM=dockerd + SYSLOG_IDENTIFIER=dockerd -o json --no-pager -n 7 --since @1700000000',
    );
  });
});

describe('--since', () => {
  const now = new Date('2026-11-25T16:00:00Z');
  const at = (s: string) => Date.parse(s) / 1000;
  it('durations, dates, date-times (UTC unless a zone is given) and @epoch', () => {
    expect(parseSince('30m', now)).toBe(at('2026-11-25T15:30:00Z'));
    expect(parseSince('1h30m', now)).toBe(at('2026-11-25T14:30:00Z'));
    expect(parseSince('2d', now)).toBe(at('2026-11-23T16:00:00Z'));
    expect(parseSince('2026-11-25', now)).toBe(at('2026-11-25T00:00:00Z'));
    expect(parseSince('2026-11-25 10:15', now)).toBe(at('2026-11-25T10:15:00Z'));
    expect(parseSince('2026-11-25T10:15:00+02:00', now)).toBe(at('2026-11-25T08:15:00Z'));
    expect(parseSince('@1700000000', now)).toBe(1700000000);
  });
  it('anything else is a usage error, and never reaches the node script', () => {
    for (const bad of ['yesterday', '1 hour', '$(reboot)', '2026-13-45', '']) {
      expect(() => parseSince(bad, now), bad).toThrow(NetdoctorError);
    }
    expect(() => dockerLogSection({ lines: 5, since: Number.NaN })).toThrow();
  });
});
