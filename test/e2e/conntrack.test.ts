/**
 * FAILURES.md row 13 (moby #8795), caused for real: a UDP client on nd3
 * keeps sending (one socket, one source port, as syslog/statsd clients do)
 * to 5514/udp of nd1 and nd2 before any service publishes that port, so
 * each node's kernel tracks the flow as not NATed. Then a global service
 * publishes 5514/udp in host mode on nd1 and nd2 (the lab has no IPVS, so no
 * routing mesh; host mode is what works there).
 *
 * On a mixed-version lab the two nodes differ, as they do in the field:
 * Docker 26 (nd1) deletes conntrack entries of a UDP port when it maps it
 * (libnetwork's clearConntrackEntries, moby PR #44742), so its flow follows
 * the new DNAT; Docker 20.10 (nd2) does not, and the client's datagrams keep
 * going to nd2 itself for as long as it sends. netdoctor must fail nd2 and
 * pass nd1; after the remediation it prints (conntrack -D … --orig-src) is
 * run on nd2, the next datagram is DNATed and the finding goes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../../src/checks/types.js';
import type { Report } from '../../src/report/model.js';
import { labDown, labNode, labUp, nodeDocker, nodeExec, type LabState } from '../lab/lab.js';
import { check } from './support/netdoctor.js';

const PORT = 5514;
const ID = 'service.conntrack.stale-udp';
let lab: LabState;
let clientPid = '';

const ip = (node: string): string => labNode(node, lab).ip;
const findings = (r: Report, node: string): Finding[] => r.findings.filter((f) => f.id === ID && f.node === node);
const shown = (fs: Finding[]) => fs.map((f) => `${f.status} ${f.messageId}: ${f.detail}\n  ${f.remediation}`).join('\n');

/** nd-N's conntrack lines for the port from nd3, as its kernel prints them. */
async function flows(node: string): Promise<string[]> {
  const r = await nodeExec(node, `grep -E 'src=${ip('nd3')} dst=${ip(node)} sport=[0-9]+ dport=${PORT} ' /proc/net/nf_conntrack || true`);
  return r.stdout.split('\n').filter((l) => l.includes(' udp '));
}

const notNatted = (line: string, node: string): boolean => line.includes(`src=${ip(node)} dst=${ip('nd3')} sport=${PORT} `);

async function until(what: string, ok: () => Promise<boolean>, seconds = 30): Promise<void> {
  for (let i = 0; i < seconds * 2; i++) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`timed out waiting for ${what}`);
}

beforeAll(async () => {
  await labDown();
  lab = await labUp(3, 'mixed');
}, 300_000);

afterAll(async () => {
  if (clientPid !== '') await nodeExec('nd3', `kill ${clientPid}`);
  await nodeDocker('nd1', ['service', 'rm', 'syslog']);
  // The rest of the suite runs on the default engine.
  await labDown();
}, 180_000);

describe('row 13: a UDP client that kept sending from before the service existed', () => {
  let before: Report;
  let after: Report;
  let faulty: { nd1: string[]; nd2: string[] } = { nd1: [], nd2: [] };
  let fixed: string[] = [];
  let remedy = '';

  beforeAll(async () => {
    // One socket per node, kept open: the same source port for every datagram.
    const loop = (node: string, fd: number) => `exec ${fd}>/dev/udp/${ip(node)}/${PORT}; `;
    const r = await nodeExec(
      'nd3',
      `timeout 300 bash -c '${loop('nd1', 3)}${loop('nd2', 4)}while :; do echo "<14>netdoctor e2e" >&3; echo "<14>netdoctor e2e" >&4; sleep 0.3; done' >/dev/null 2>&1 & echo $!`,
    );
    clientPid = r.stdout.trim();
    expect(clientPid).toMatch(/^[0-9]+$/);
    await until('the un-NATed flows on nd1 and nd2', async () => (await flows('nd1')).length > 0 && (await flows('nd2')).length > 0);
    const created = await nodeDocker('nd1', [
      'service',
      'create',
      '--detach',
      '--quiet',
      '--name',
      'syslog',
      '--mode',
      'global',
      '--constraint',
      'node.hostname!=nd3',
      '--publish',
      `mode=host,target=514,published=${PORT},protocol=udp`,
      '--no-resolve-image',
      lab.image,
      'sh',
      '-c',
      'nc -u -l -p 514 >/dev/null || sleep 100000',
    ]);
    expect(created.code, created.stderr).toBe(0);
    await until('syslog running on nd1 and nd2', async () => {
      const ps = await nodeDocker('nd1', ['service', 'ps', 'syslog', '--filter', 'desired-state=running', '--format', '{{.Node}} {{.CurrentState}}']);
      return ['nd1', 'nd2'].every((n) => new RegExp(`^${n} Running`, 'm').test(ps.stdout));
    });
    await until(
      'the DNAT for 5514/udp on nd2',
      async () => (await nodeExec('nd2', `iptables-save -t nat | grep -q -- '--dport ${PORT} -j DNAT'`)).code === 0,
    );
    await new Promise((r) => setTimeout(r, 1500));
    faulty = { nd1: await flows('nd1'), nd2: await flows('nd2') };
    before = (await check(['--only', ID, '--no-probe'])).report;
    remedy = /`(conntrack -D -p udp --dport 5514 --orig-src [0-9.]+)`/.exec(findings(before, 'nd2')[0]?.remediation ?? '')?.[1] ?? '';
    if (remedy !== '') {
      const del = await nodeExec('nd2', remedy);
      expect(del.code, del.stderr).toBe(0);
    }
    await new Promise((r) => setTimeout(r, 1500));
    fixed = await flows('nd2');
    after = (await check(['--only', ID, '--no-probe'])).report;
  }, 300_000);

  it('the kernels really show it: nd2 (Docker 20.10) keeps the un-NATed flow, nd1 (Docker 26) flushed it and DNATs', () => {
    expect(faulty.nd2.length, faulty.nd2.join('\n')).toBeGreaterThan(0);
    expect(
      faulty.nd2.every((l) => notNatted(l, 'nd2')),
      faulty.nd2.join('\n'),
    ).toBe(true);
    expect(faulty.nd1.length).toBeGreaterThan(0);
    expect(
      faulty.nd1.some((l) => notNatted(l, 'nd1')),
      faulty.nd1.join('\n'),
    ).toBe(false);
  });

  it('netdoctor fails nd2, naming the port, the service, the client and the command, and passes nd1', () => {
    const fs = findings(before, 'nd2');
    expect(
      fs.map((f) => `${f.status} ${f.messageId}`),
      shown(fs),
    ).toEqual(['fail notNatted']);
    expect(fs[0]!.detail).toContain(`5514/udp (syslog, host mode) from ${ip('nd3')}`);
    expect(remedy).toBe(`conntrack -D -p udp --dport 5514 --orig-src ${ip('nd3')}`);
    expect(findings(before, 'nd1').map((f) => `${f.status} ${f.messageId}`)).toEqual(['pass ok']);
    expect(findings(before, 'nd3').map((f) => `${f.status} ${f.messageId}`)).toEqual(['pass notHere']);
  });

  it('the printed command clears it: the next datagram is DNATed to the task, and the finding goes', () => {
    expect(fixed.length).toBeGreaterThan(0);
    expect(
      fixed.some((l) => notNatted(l, 'nd2')),
      fixed.join('\n'),
    ).toBe(false);
    const fs = findings(after, 'nd2');
    expect(
      fs.map((f) => `${f.status} ${f.messageId}`),
      shown(fs),
    ).toEqual(['pass ok']);
  });
});
