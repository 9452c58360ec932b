/**
 * Collection against the real lab: real sshd with strict host keys, real
 * dockerd sandboxes, and real faults (stopped sshd, cut link, bad host keys,
 * MountFlags=slave, non-root users).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerdStart, dockerdStop, labEnsure, linkDown, linkUp, nodeExec, nodeSsh, sshdStart, sshdStop, type LabState } from '../lab/lab.js';
import type { ClusterSnapshot, NodeSnapshot } from '../../src/snapshot/types.js';
import { collect, nd } from './support/netdoctor.js';

let lab: LabState;
let tmp: string;
const byName = (s: ClusterSnapshot, n: string): NodeSnapshot => s.nodes.find((x) => x.name === n)!;

beforeAll(async () => {
  lab = await labEnsure();
  tmp = mkdtempSync(join(tmpdir(), 'nd-collect-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('collect from the healthy lab', () => {
  let snap: ClusterSnapshot;
  let before: string;

  beforeAll(async () => {
    before = (await nodeExec('nd2', 'ls -A /tmp /var/tmp /root 2>/dev/null; ps -eo comm | sort | uniq -c')).stdout;
    snap = (await collect()).snap;
  });

  it('reaches every node through SSH with strict host-key checking, one connection each', () => {
    expect(snap.nodes.map((n) => [n.name, n.status, n.errors])).toEqual(lab.nodes.map((n) => [n.name, 'ok', []]));
    for (const n of snap.nodes) {
      expect(n.target).toMatchObject({ host: lab.nodes.find((l) => l.name === n.name)!.ip, port: 22, user: 'root', via: [] });
      expect(n.host!.hostname).toBe(n.name);
    }
  });

  it("discovers and parses the overlay sandboxes, with the FDB matching the manager's ground truth", () => {
    const ndnet = snap.cluster.networks.find((n) => n.name === lab.network)!;
    for (const n of snap.nodes) {
      const ov = n.sandboxes.find((s) => s.kind === 'overlay' && s.networkName === lab.network)!;
      expect(ov, `${n.name} overlay sandbox`).toBeDefined();
      expect(ov.links.find((l) => l.kind === 'vxlan')!.vxlan).toMatchObject({ id: ndnet.vnis[0], port: snap.cluster.dataPathPort });
      const me = lab.nodes.find((l) => l.name === n.name)!.ip;
      for (const ep of ndnet.endpoints.filter((e) => e.kind === 'task' && e.hostIp !== me)) {
        expect(
          ov.fdb.some((f) => f.dst === ep.hostIp),
          `${n.name} fdb → ${ep.hostIp}`,
        ).toBe(true);
      }
      expect(n.sandboxes.some((s) => s.kind === 'ingress')).toBe(true);
      expect(n.sandboxAccess).toBe('direct');
    }
  });

  it("records what the node lacks as unavailable with the node's own reason", () => {
    const ipvs = byName(snap, 'nd1').raw['netns/ingress_sbox/ipvs']!;
    expect(ipvs.rc).not.toBe(0);
    expect(ipvs.stderr).toMatch(/IPVS is not available/);
  });

  it('leaves nothing behind on the node', async () => {
    const after = (await nodeExec('nd2', 'ls -A /tmp /var/tmp /root 2>/dev/null; ps -eo comm | sort | uniq -c')).stdout;
    expect(after).toBe(before);
  });

  it('costs the node well under 0.5 s of CPU', () => {
    for (const n of snap.nodes) expect(n.timings.nodeCpuMs, n.name).toBeLessThan(500);
  });
});

describe('per-node failures do not stop the others', () => {
  it('a stopped sshd: that node is unreachable (refused), the rest complete', async () => {
    await sshdStop('nd2');
    try {
      const t = Date.now();
      const { snap } = await collect(['--connect-timeout', '5']);
      expect(Date.now() - t).toBeLessThan(30_000);
      expect(byName(snap, 'nd2')).toMatchObject({ status: 'unreachable', host: null });
      expect(byName(snap, 'nd2').errors[0]).toMatchObject({ stage: 'connect', kind: 'refused' });
      expect(byName(snap, 'nd1').status).toBe('ok');
      expect(byName(snap, 'nd3').status).toBe('ok');
    } finally {
      await sshdStart('nd2');
    }
  });

  it('a node cut off from the bridge: timed out within the connect timeout, the rest complete', async () => {
    await linkDown('nd3');
    try {
      const t = Date.now();
      const { snap } = await collect(['--connect-timeout', '3', '--node-timeout', '10']);
      expect(Date.now() - t).toBeLessThan(20_000);
      expect(byName(snap, 'nd3').status).toBe('unreachable');
      expect(byName(snap, 'nd3').errors[0]!.kind).toMatch(/timeout|unreachable/);
      expect(byName(snap, 'nd1').status).toBe('ok');
      expect(byName(snap, 'nd2').status).toBe('ok');
    } finally {
      await linkUp('nd3');
    }
  });

  it('a changed host key is refused with its fingerprint; an unknown host likewise; the others complete', async () => {
    const kh = readFileSync(lab.knownHosts, 'utf8').split('\n').filter(Boolean);
    const nd2 = lab.nodes.find((n) => n.name === 'nd2')!;
    const nd3 = lab.nodes.find((n) => n.name === 'nd3')!;
    const other = join(tmp, 'other_key');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other]);
    const otherPub = readFileSync(`${other}.pub`, 'utf8').split(' ').slice(0, 2).join(' ');
    const file = join(tmp, 'known_hosts_bad');
    writeFileSync(
      file,
      kh
        .filter((l) => !l.startsWith(`${nd3.ip} `))
        .map((l) => (l.startsWith(`${nd2.ip} `) ? `${nd2.ip} ${otherPub}` : l))
        .join('\n') + '\n',
    );
    const before = readFileSync(file, 'utf8');
    const r = await nd(['collect', '--identity', lab.sshKey, '--known-hosts', file, '--ssh-config', 'none'], { ssh: false });
    expect(r.code).toBe(0);
    const snap = JSON.parse(r.stdout) as ClusterSnapshot;
    expect(byName(snap, 'nd2').errors[0]).toMatchObject({ stage: 'hostkey', kind: 'hostkey-changed' });
    expect(byName(snap, 'nd2').errors[0]!.message).toMatch(/SHA256:/);
    expect(byName(snap, 'nd3').errors[0]).toMatchObject({ stage: 'hostkey', kind: 'hostkey-unknown' });
    expect(byName(snap, 'nd1').status).toBe('ok');
    // --accept-new-host-keys trusts the unknown one and still refuses the changed one.
    const r2 = await nd(['collect', '--identity', lab.sshKey, '--known-hosts', file, '--ssh-config', 'none', '--accept-new-host-keys'], {
      ssh: false,
    });
    const snap2 = JSON.parse(r2.stdout) as ClusterSnapshot;
    expect(byName(snap2, 'nd3').status).toBe('ok');
    expect(byName(snap2, 'nd2').errors[0]!.kind).toBe('hostkey-changed');
    const after = readFileSync(file, 'utf8');
    expect(after.startsWith(before)).toBe(true);
    expect(after).toContain(nd3.ip);
  });
});

describe('reaching nodes', () => {
  it('through a ProxyJump host (nd1), verifying both host keys', async () => {
    const { snap } = await collect(['--jump', `root@${lab.nodes[0]!.ip}`, '--node', 'nd2', '--node', 'nd3']);
    expect(snap.nodes.map((n) => [n.name, n.status])).toEqual([
      ['nd2', 'ok'],
      ['nd3', 'ok'],
    ]);
    expect(byName(snap, 'nd2').target.via).toEqual([`root@${lab.nodes[0]!.ip}:22`]);
  });

  it('as a non-root user with passwordless sudo, and as one without (a clear sudo finding, no hang)', async () => {
    const users = ['ndsudo', 'ndnosudo'];
    const sudoers = '/etc/sudoers.d/ndlab-ndsudo';
    // usermod -p '*': an unlocked account without a password, so sshd (UsePAM no) lets the key in.
    for (const u of users) execFileSync('sh', ['-c', `id ${u} >/dev/null 2>&1 || useradd -M -s /bin/sh ${u}; usermod -p '*' ${u}`]);
    writeFileSync(sudoers, 'ndsudo ALL=(root) NOPASSWD: ALL\n', { mode: 0o440 });
    try {
      const ok = await collect(['--ssh-user', 'ndsudo', '--node', 'nd2']);
      expect(ok.snap.nodes[0]).toMatchObject({ name: 'nd2', status: 'ok', target: { user: 'ndsudo' } });
      expect(ok.snap.nodes[0]!.host!.uid).toBe(0);
      expect(ok.snap.nodes[0]!.sandboxes.length).toBeGreaterThan(0);
      const t = Date.now();
      const no = await collect(['--ssh-user', 'ndnosudo', '--node', 'nd2']);
      expect(Date.now() - t).toBeLessThan(30_000);
      expect(no.snap.nodes[0]!.errors[0]).toMatchObject({ stage: 'sudo', kind: 'sudo-password' });
      expect(no.snap.nodes[0]!.host).toBeNull();
    } finally {
      rmSync(sudoers, { force: true });
      for (const u of users) execFileSync('sh', ['-c', `userdel ${u} 2>/dev/null || true`]);
    }
  });

  it("MountFlags=slave: the netns files are visible but not enterable from SSH; sandboxes are still read via dockerd's mount namespace", async () => {
    await dockerdStop('nd3');
    await dockerdStart('nd3', { slave: true });
    try {
      // What an operator sees from an SSH session on such a node.
      const direct = await nodeSsh('nd3', 'f=$(ls /var/run/docker/netns | grep "^1-" | head -n1); nsenter --net=/var/run/docker/netns/$f true');
      expect(direct.code).not.toBe(0);
      expect(direct.stderr).toMatch(/Invalid argument/);
      const { snap } = await collect(['--node', 'nd3']);
      const n = snap.nodes[0]!;
      expect(n.status).toBe('ok');
      expect(n.sandboxAccess).toBe('dockerd-mount-ns');
      expect(n.host!.dockerd.separateMountNs).toBe(true);
      const ov = n.sandboxes.find((s) => s.kind === 'overlay' && s.networkName === lab.network)!;
      expect(ov.enterError).toBeNull();
      expect(ov.fdb.length).toBeGreaterThan(0);
    } finally {
      await dockerdStop('nd3');
      await dockerdStart('nd3');
    }
  });
});

describe('bad input', () => {
  it('an unknown --node is a usage error (exit 2, one line)', async () => {
    const r = await nd(['collect', '--node', 'nope']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/^docker netdoctor: unknown node nope; the swarm has nd1, nd2, nd3$/);
  });

  it('a malformed inventory is a usage error naming the line', async () => {
    const inv = join(tmp, 'inv.yaml');
    writeFileSync(inv, 'nodes:\n  nd1:\n    hots: x\n');
    const r = await nd(['collect', '--inventory', inv]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/inventory .*inv\.yaml:3/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
