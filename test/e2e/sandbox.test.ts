/**
 * Faults inside the sandboxes, caused for real in the lab (issue 13, "Inside
 * the sandboxes"): forwarding off inside an lb_ namespace (FAILURES.md row
 * 33), an outer VXLAN source other than the data-path address (row 29), a
 * leftover vx-* vxlan device in a node's host namespace (row 24), and a remote
 * endpoint known only by an FDB entry the kernel learned from traffic (row 6).
 * Each test injects the fault from the test (never from netdoctor), asserts
 * the finding, and restores the lab.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { labState, nodeDocker, nodeExec, type LabState } from '../lab/lab.js';
import type { Finding } from '../../src/checks/types.js';
import type { Report } from '../../src/report/model.js';
import type { NetworkFacts } from '../../src/snapshot/types.js';
import { check, collect } from './support/netdoctor.js';

let lab: LabState;
let net: NetworkFacts;
const ip = (node: string) => lab.nodes.find((n) => n.name === node)!.ip;
const problems = (r: Report, id: string): Finding[] => r.findings.filter((f) => f.id === id && f.status !== 'pass');
const rows = (fs: Finding[]) => fs.map((f) => [f.status, f.node, f.peer, f.network]);
const said = (r: Report) =>
  r.findings
    .filter((f) => f.status !== 'pass')
    .map((f) => `${f.status} ${f.id} ${f.node ?? '-'}→${f.peer ?? '-'} ${f.network ?? '-'}: ${f.detail}`)
    .join('\n');
const macOf = (addr: string) =>
  `02:42:${addr
    .split('.')
    .map((o) => Number(o).toString(16).padStart(2, '0'))
    .join(':')}`;

beforeAll(async () => {
  lab = labState();
  // The FDB case needs a task of the lab's network on nd2 and on nd3: on a lab just brought up
  // the swarm may still be placing them, so read the manager's view until both are there.
  const taskOn = (node: string) => net.endpoints.some((e) => e.kind === 'task' && e.hostIp === ip(node));
  for (let i = 0; i < 30; i++) {
    const { snap } = await collect(['--node', 'nd1']);
    net = snap.cluster.networks.find((n) => n.name === lab.network)!;
    if (taskOn('nd2') && taskOn('nd3')) break;
    await new Promise((r) => setTimeout(r, 2000));
  }
}, 120_000);

describe('inside the sandboxes, faults caused for real', () => {
  it('the healthy lab: no finding of the new checks but the IPVS skips this kernel explains', async () => {
    const only = ['service.ipvs', 'overlay.vxlan', 'overlay.fdb.learned'].flatMap((id) => ['--only', id]);
    const { report } = await check(['--no-probe', ...only]);
    const bad = report.findings.filter((f) => f.status === 'fail' || f.status === 'warn' || f.status === 'error');
    expect(bad, said(report)).toEqual([]);
    expect(report.findings.filter((f) => f.id === 'overlay.vxlan.source' && f.status === 'pass').length).toBe(lab.nodes.length);
    expect(report.findings.filter((f) => f.id === 'overlay.vxlan.stray' && f.status === 'pass').length).toBe(lab.nodes.length);
    // No IPVS in this kernel: the IPVS sysctl and timeout checks skip every node, saying why.
    expect(report.findings.filter((f) => f.id.startsWith('service.ipvs.')).map((f) => f.messageId)).toEqual(
      Array(2 * lab.nodes.length).fill('skip.no-ipvs'),
    );
  });

  it('the lab is a nested node: its lb_ and ingress namespaces inherit ip_forward=0; set to 1 in one, that finding goes (row 33)', async () => {
    // The lab's nodes are namespaces of a host whose initial namespace does not forward: every
    // sandbox dockerd creates copies that 0, as on LXC/Proxmox/sysbox nodes. No IPVS here, so a warning.
    const lb = `lb_${net.id.slice(0, 9)}`;
    const sb = `/var/run/docker/netns/${lb}`;
    const before = await check(['--no-probe', '--only', 'service.lb.ip-forward']);
    const found = rows(problems(before.report, 'service.lb.ip-forward'));
    expect(found, said(before.report)).toEqual(lab.nodes.map((n) => ['warn', n.name, null, null]));
    for (const f of problems(before.report, 'service.lb.ip-forward'))
      expect(f.detail).toMatch(/ingress_sbox \(ingress\) = 0 and lb_\S+ \(\S+\) = 0|lb_\S+ \(\S+\) = 0 and ingress_sbox \(ingress\) = 0/);
    const was = (await nodeExec('nd2', `nsenter --net=${sb} cat /proc/sys/net/ipv4/ip_forward`)).stdout.trim();
    expect(was).toBe('0');
    const f = problems(before.report, 'service.lb.ip-forward').find((x) => x.node === 'nd2')!;
    expect(f.remediation).toContain(`nsenter --net=${sb} sysctl -w net.ipv4.ip_forward=1`);
    const set = await nodeExec('nd2', `nsenter --net=${sb} sysctl -qw net.ipv4.ip_forward=1`);
    expect(set.code, set.stderr).toBe(0);
    try {
      const { report } = await check(['--node', 'nd2', '--no-probe', '--only', 'service.lb.ip-forward']);
      expect(rows(problems(report, 'service.lb.ip-forward')), said(report)).toEqual([['warn', 'nd2', null, null]]);
      expect(problems(report, 'service.lb.ip-forward')[0]!.detail).not.toContain(lb);
    } finally {
      await nodeExec('nd2', `nsenter --net=${sb} sysctl -qw net.ipv4.ip_forward=${was}`);
    }
  });

  it('the route toward nd1 picks another source address on nd3 (row 29)', async () => {
    const other = ip('nd3').replace(/\.(\d+)$/, (_, d: string) => `.${Number(d) + 100}`);
    const add = await nodeExec('nd3', `ip addr add ${other}/32 dev eth0 && ip route add ${ip('nd1')}/32 dev eth0 src ${other}`);
    expect(add.code, add.stderr).toBe(0);
    try {
      const got = await nodeExec('nd3', `ip -j route get ${ip('nd1')}`);
      expect(got.stdout).toContain(`"prefsrc":"${other}"`);
      const { report } = await check(['--node', 'nd3', '--no-probe', '--only', 'overlay.vxlan.source']);
      expect(rows(problems(report, 'overlay.vxlan.source')), said(report)).toEqual([['fail', 'nd3', 'nd1', null]]);
      expect(problems(report, 'overlay.vxlan.source')[0]!.detail).toContain(other);
    } finally {
      await nodeExec('nd3', `ip route del ${ip('nd1')}/32 dev eth0; ip addr del ${other}/32 dev eth0`);
    }
  });

  it('a leftover vx-* vxlan device in the host namespace (row 24)', async () => {
    const live = net.vnis[0]!;
    const stray = 'vx-0010ff-ndtst';
    // The kernel itself refuses a second device with a live VNI on the same port: the "file exists" of the row.
    const dup = await nodeExec('nd2', `ip link add vx-dup-ndtst type vxlan id ${live} dstport 4789`);
    if (dup.code === 0) await nodeExec('nd2', 'ip link del vx-dup-ndtst');
    const add = await nodeExec('nd2', `ip link add ${stray} type vxlan id 4351 dstport 4789`);
    expect(add.code, add.stderr).toBe(0);
    try {
      const { report } = await check(['--node', 'nd2', '--no-probe', '--only', 'overlay.vxlan.stray']);
      expect(rows(problems(report, 'overlay.vxlan.stray')), said(report)).toEqual([['warn', 'nd2', null, null]]);
      expect(problems(report, 'overlay.vxlan.stray')[0]!.remediation).toContain(`ip link delete ${stray}`);
    } finally {
      await nodeExec('nd2', `ip link del ${stray}`);
    }
    expect(dup.code, dup.stderr).not.toBe(0);
    expect(dup.stderr).toMatch(/File exists|VNI already exists/);
  });

  it('a remote endpoint known only by a learned FDB entry (row 6)', async () => {
    const sbox = `/var/run/docker/netns/1-${net.id.slice(0, 10)}`;
    const nd3Task = net.endpoints.find((e) => e.kind === 'task' && e.hostIp === ip('nd3'))!;
    const nd2Task = net.endpoints.find((e) => e.kind === 'task' && e.hostIp === ip('nd2'))!;
    const mac = macOf(nd3Task.ip);
    const inSbox = (cmd: string) => nodeExec('nd2', `nsenter --net=${sbox} ${cmd}`);
    // nd2 programs nd3's task once gossip has told it (after earlier files cut gossip, that can take seconds).
    for (let i = 0; i < 30 && !(await inSbox('bridge fdb show dev vxlan0')).stdout.includes(mac); i++) await new Promise((r) => setTimeout(r, 1000));
    const del = await inSbox(`bridge fdb del ${mac} dev vxlan0 dst ${ip('nd3')} self`);
    expect(del.code, del.stderr).toBe(0);
    try {
      // Traffic from nd3's task toward nd2's: vxlan0 on nd2 (learning on, as Docker creates it) learns the source MAC.
      const cid = (await nodeDocker('nd3', ['ps', '-q', '--filter', `name=${lab.service}`])).stdout.trim().split('\n')[0]!;
      expect(cid).not.toBe('');
      await nodeDocker('nd3', ['exec', cid, 'ping', '-c', '3', '-W', '1', nd2Task.ip]);
      const fdb = await inSbox(`bridge -j fdb show dev vxlan0`);
      const learned = (JSON.parse(fdb.stdout) as { mac: string; dst?: string; state?: string }[]).filter((e) => e.mac === mac && e.dst !== undefined);
      expect(learned.length, fdb.stdout).toBeGreaterThan(0);
      expect(
        learned.some((e) => e.state === 'permanent'),
        fdb.stdout,
      ).toBe(false);
      const { report } = await check(['--node', 'nd2', '--no-probe', '--only', 'overlay.fdb']);
      expect(rows(problems(report, 'overlay.fdb.learned')), said(report)).toEqual([['fail', 'nd2', 'nd3', lab.network]]);
      expect(problems(report, 'overlay.fdb.missing'), said(report)).toEqual([]);
    } finally {
      await inSbox(`bridge fdb replace ${mac} dev vxlan0 dst ${ip('nd3')} self permanent`);
    }
  });
});
