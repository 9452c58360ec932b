/**
 * A node that prints hundreds of MiB for one section, on the real lab: nd2's
 * `bridge` is shadowed (a tmpfs on /usr/local/sbin, first on the collection
 * script's PATH, in nd2's own mount namespace only) by a script whose
 * `fdb show` prints 200 MiB of well-formed JSON fdb entries. The run must
 * finish within its default timeouts, report nd2's fdb sections as
 * truncated (host.node.reachable: partly collected), analyse everything
 * else, and stay under 512 MiB RSS (GNU time's maximum resident set size
 * of the child). The shadow is removed afterwards, also on failure.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labEnsure, nodeExec, type LabState } from '../lab/lab.js';
import type { Report } from '../../src/report/model.js';
import { resolveTargets } from '../../src/ssh/config.js';
import { connect } from '../../src/ssh/session.js';
import type { ClusterSnapshot } from '../../src/snapshot/types.js';
import { BIN, run, type RunResult } from './support/cli.js';
import { managerHost } from './support/netdoctor.js';

const SHADOW_DIR = '/usr/local/sbin';
const MIB = 200;
// One fdb entry as `bridge -j fdb show` prints it (iproute2 prints the whole table as one JSON array on one line).
const ENTRY = '{"mac":"02:42:0a:00:01:05","ifname":"vxlan0","dst":"10.213.0.12","link_netnsid":0,"flags":["self"],"state":"permanent"},';
const SHADOW = `#!/bin/sh
# netdoctor e2e (hostile-output.test.ts): a bridge whose fdb show prints ${MIB} MiB.
case " $* " in
  *" fdb "*) printf '['; yes '${ENTRY}' | tr -d '\\n' | head -c ${MIB * 2 ** 20}; printf '{}]\\n'; exit 0 ;;
esac
exec /usr/sbin/bridge "$@"
`;

let lab: LabState;

/** The CLI under GNU time: the child's own peak RSS, in KiB, from the last stderr line. */
async function timed(args: string[]): Promise<{ r: RunResult; rssKb: number; ms: number }> {
  const t = Date.now();
  const ssh = ['--identity', lab.sshKey, '--known-hosts', lab.knownHosts, '--ssh-config', 'none'];
  const r = await run(
    '/usr/bin/time',
    ['-f', 'maxrss_kb=%M', BIN, '-H', managerHost(lab), ...args, ...ssh],
    { DOCKER_HOST: '', DOCKER_CONTEXT: '', SSH_AUTH_SOCK: '' },
    300_000,
  );
  const m = /maxrss_kb=(\d+)\s*$/.exec(r.stderr);
  if (!m) throw new Error(`no RSS figure from /usr/bin/time: ${r.stderr.slice(-500)}`);
  return {
    r: { ...r, stderr: r.stderr.slice(0, m.index).replace(/Command exited with non-zero status \d+\n$/, '') },
    rssKb: Number(m[1]),
    ms: Date.now() - t,
  };
}

const unshadow = () => nodeExec('nd2', `umount ${SHADOW_DIR} 2>/dev/null; true`);

beforeAll(async () => {
  lab = await labEnsure();
  await unshadow();
  const put = await nodeExec(
    'nd2',
    `mount -t tmpfs -o size=1m,mode=755 ndshadow ${SHADOW_DIR} && cat > ${SHADOW_DIR}/bridge && chmod 755 ${SHADOW_DIR}/bridge`,
    { input: SHADOW },
  );
  if (put.code !== 0) throw new Error(`could not shadow bridge on nd2: ${put.stderr}`);
  // Only nd2 sees it: the node's mount namespace has private propagation.
  const seen = await nodeExec('nd2', 'command -v bridge; PATH=/usr/local/sbin:$PATH command -v bridge');
  expect(seen.stdout).toContain(`${SHADOW_DIR}/bridge`);
  expect((await nodeExec('nd1', `ls -A ${SHADOW_DIR}`)).stdout.trim()).toBe('');
}, 120_000);

afterAll(async () => {
  await unshadow();
  const left = await nodeExec('nd2', `ls -A ${SHADOW_DIR}; mount | grep -c ndshadow || true`);
  expect(left.stdout.trim()).toBe('0');
}, 60_000);

describe(`a node whose bridge prints ${MIB} MiB per fdb section`, () => {
  let check: { r: RunResult; rssKb: number; ms: number };
  let report: Report;

  beforeAll(async () => {
    check = await timed(['check', '--format', 'json', '--no-probe']);
    report = JSON.parse(check.r.stdout) as Report;
    console.log(`check with ${MIB} MiB fdb sections on nd2: ${check.ms} ms, max RSS ${Math.round(check.rssKb / 1024)} MiB, exit ${check.r.code}`);
  }, 300_000);

  it('finishes within the default timeouts and under 512 MiB RSS', () => {
    expect([0, 1], check.r.stderr).toContain(check.r.code);
    expect(check.rssKb).toBeLessThan(512 * 1024);
  });

  it('reports nd2 as partly collected, naming the truncated fdb section', () => {
    const reach = report.findings.filter((f) => f.id === 'host.node.reachable');
    const nd2 = reach.find((f) => f.node === 'nd2')!;
    expect(nd2.status).not.toBe('pass');
    expect(nd2.detail).toMatch(/nd2 was only partly collected/);
    expect(nd2.detail).toMatch(/section netns\/1-[0-9a-z]+\/fdb printed 2\d\d(\.\d)? MiB; only its first 16(\.0)? MiB were kept/);
    expect(nd2.detail).not.toMatch(/timed out|timeout/);
    for (const n of ['nd1', 'nd3']) expect(reach.find((f) => f.node === n)!.status, n).toBe('pass');
  });

  it('analyses the other nodes and the rest of nd2', () => {
    const hostOnNd2 = report.findings.filter((f) => f.layer === 'host' && f.node === 'nd2' && f.id !== 'host.node.reachable');
    expect(hostOnNd2.length).toBeGreaterThan(3);
    expect(hostOnNd2.every((f) => f.status !== 'error')).toBe(true);
    for (const n of ['nd1', 'nd3']) {
      expect(report.findings.filter((f) => f.node === n && f.layer === 'overlay').length, n).toBeGreaterThan(0);
    }
  });

  it('keeps every section of nd2 in the snapshot, the fdb ones cut at 16 MiB and marked', async () => {
    const c = await timed(['collect', '--node', 'nd2']);
    expect(c.r.code, c.r.stderr).toBe(0);
    expect(c.rssKb).toBeLessThan(512 * 1024);
    const snap = JSON.parse(c.r.stdout) as ClusterSnapshot;
    const nd2 = snap.nodes.find((n) => n.name === 'nd2')!;
    expect(nd2.status).toBe('partial');
    expect(nd2.host).not.toBeNull();
    const fdb = Object.entries(nd2.raw).filter(([k]) => /^netns\/1-[^/]+\/fdb$/.test(k));
    expect(fdb.length).toBeGreaterThan(0);
    for (const [name, s] of fdb) {
      expect(s.truncated, name).toBe(true);
      expect(s.rc, name).toBe(0);
      expect(Buffer.byteLength(s.stdout), name).toBe(16 * 2 ** 20);
      expect(s.droppedBytes, name).toBeGreaterThan((MIB - 17) * 2 ** 20);
    }
    const others = Object.entries(nd2.raw).filter(([k]) => !k.endsWith('/fdb'));
    expect(others.length).toBeGreaterThan(20);
    expect(others.every(([, s]) => s.truncated === undefined)).toBe(true);
    console.log(`collect --node nd2: ${c.ms} ms, max RSS ${Math.round(c.rssKb / 1024)} MiB`);
  }, 300_000);
});

describe('one exec over real SSH keeps at most maxOutputBytes of each stream', () => {
  it('drops and counts the rest of 96 MiB on stdout and 8 MiB on stderr, and the command still ends', async () => {
    const [t] = await resolveTargets([{ name: 'nd1', sshAddress: lab.nodes.find((n) => n.name === 'nd1')!.ip }], {
      sshConfigFile: 'none',
      user: lab.user,
      identity: lab.sshKey,
      knownHostsFile: lab.knownHosts,
      globalKnownHostsFiles: [],
      env: {},
    });
    const s = await connect(t!, { connectTimeoutMs: 10_000, env: {}, promptPassphrase: null });
    try {
      const r = await s.exec('head -c 100663296 /dev/zero; head -c 8388608 /dev/zero | tr "\\0" e >&2; echo done >&2', {
        timeoutMs: 120_000,
        maxOutputBytes: 2 ** 20,
      });
      expect(r.code).toBe(0);
      expect(r.stdout.length).toBe(2 ** 20);
      expect(r.stderr.length).toBe(2 ** 20);
      expect(r.droppedBytes).toEqual({ stdout: 96 * 2 ** 20 - 2 ** 20, stderr: 8 * 2 ** 20 + 5 - 2 ** 20 });
    } finally {
      s.close();
    }
  }, 180_000);
});
