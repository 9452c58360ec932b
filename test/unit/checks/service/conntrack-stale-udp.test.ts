/**
 * service.conntrack.stale-udp on the recorded lab, given what the lab showed
 * when a client on nd2 kept sending to nd1's 5514/udp before and after a
 * host-mode service published it: the conntrack lines nd1's kernel printed
 * (test/fixtures/host/conntrack) and the DNAT docker 26 added to nd1's nat
 * table (`-A DOCKER ! -i docker0 -p udp -m udp --dport 5514 -j DNAT
 * --to-destination 172.17.0.2:514`). The ingress-mode case uses the
 * DOCKER-INGRESS DNAT of real hosts (the lab kernel has no IPVS, so docker
 * programs no routing mesh there).
 */
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import check from '../../../../src/checks/service/conntrack-stale-udp.js';
import type { ClusterSnapshot, ServiceFacts } from '../../../../src/snapshot/types.js';
import { checkTester, runCheck } from '../../../support/check-tester.js';
import { failed, labWith, nodeOf, ok } from '../../../support/lab-mutate.js';

const fixture = (name: string): string => readFileSync(new URL(`../../../fixtures/host/conntrack/${name}`, import.meta.url), 'utf8');

const BEFORE = fixture('nd1-before-service.txt').trim();
const AFTER = fixture('nd1-after-service-docker26.txt').trim();
/** The same flow, DNATed to an address the current rule no longer names (the task before a redeploy). */
const OLD_TASK = AFTER.replace('src=172.17.0.2', 'src=172.17.0.5');
/** Entries that must never be flagged: tcp to the web port, another port, nd1 as a client of another host's 5514, a container on nd1's docker0 (no DNAT there by design). */
const OTHERS = [
  'ipv4     2 tcp      6 117 TIME_WAIT src=10.213.0.13 dst=10.213.0.11 sport=40312 dport=8080 src=10.213.0.11 dst=10.213.0.13 sport=8080 dport=40312 [ASSURED] mark=0 zone=0 use=2',
  'ipv4     2 udp      17 28 src=10.213.0.12 dst=10.213.0.11 sport=41000 dport=5353 [UNREPLIED] src=10.213.0.11 dst=10.213.0.12 sport=5353 dport=41000 mark=0 zone=0 use=2',
  'ipv4     2 udp      17 27 src=10.213.0.11 dst=10.213.0.99 sport=38000 dport=5514 [UNREPLIED] src=10.213.0.99 dst=10.213.0.11 sport=5514 dport=38000 mark=0 zone=0 use=2',
  'ipv4     2 udp      17 26 src=172.17.0.3 dst=10.213.0.11 sport=39000 dport=5514 [UNREPLIED] src=10.213.0.11 dst=172.17.0.3 sport=5514 dport=39000 mark=0 zone=0 use=2',
];
const HOST_DNAT = '-A DOCKER ! -i docker0 -p udp -m udp --dport 5514 -j DNAT --to-destination 172.17.0.2:514';
const INGRESS_NAT = [
  ':DOCKER-INGRESS - [0:0]',
  '-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER-INGRESS',
  '-A DOCKER-INGRESS -p udp -m udp --dport 5514 -j DNAT --to-destination 172.18.0.2:5514',
  '-A DOCKER-INGRESS -j RETURN',
];

/** A syslog service publishing 5514/udp in `mode`, its one task on `on`. */
function syslog(s: ClusterSnapshot, mode: 'host' | 'ingress', on = 'nd1'): void {
  const nd1 = nodeOf(s, on);
  const svc: ServiceFacts = {
    id: 'sy5l0gs3rv1ce0000000000000',
    name: 'syslog',
    mode: 'replicated',
    replicas: 1,
    networks: [],
    ports: [{ protocol: 'udp', targetPort: 514, publishedPort: 5514, publishMode: mode }],
    endpointMode: 'vip',
    vips: [],
    runningTasks: [{ id: 'mga41dxdnumh0000000000000', slot: 1, nodeId: nd1.id!, addresses: [] }],
  };
  s.cluster.services.push(svc);
}

/** nd1's nat table gets `lines` (after `:DOCKER - [0:0]`, where iptables-save puts chains and rules). */
function natAdd(s: ClusterSnapshot, node: string, lines: string[]): void {
  const raw = nodeOf(s, node).raw['host/iptables-save']!;
  const [head, nat] = raw.stdout.split('*nat\n');
  const [natBody, ...rest] = nat!.split('COMMIT\n');
  raw.stdout = `${head}*nat\n${natBody}${lines.join('\n')}\nCOMMIT\n${rest.join('COMMIT\n')}`;
}

/** Every collected node has the section (empty); `node` gets `lines`. */
function table(s: ClusterSnapshot, node: string, lines: string[]): void {
  for (const n of s.nodes) n.raw['host/conntrack-udp'] = ok('');
  nodeOf(s, node).raw['host/conntrack-udp'] = ok(`${lines.join('\n')}\n`);
}

const hostMode = (lines: string[]) => () =>
  labWith((s) => {
    syslog(s, 'host');
    natAdd(s, 'nd1', [HOST_DNAT]);
    table(s, 'nd1', lines);
  });

checkTester(check, {
  valid: [
    { name: 'the lab publishes no UDP port', snapshot: () => labWith(() => undefined), passes: [{ status: 'pass', messageId: 'noUdp', node: null }] },
    {
      name: 'the flow follows the DNAT docker 26 programmed (it flushed the old entry itself), beside entries that are none of its business',
      snapshot: hostMode([AFTER, ...OTHERS]),
      passes: [
        { status: 'pass', messageId: 'ok', node: 'nd1' },
        { status: 'pass', messageId: 'notHere', node: 'nd2' },
      ],
    },
    {
      name: 'an un-NATed flow on a node that DNATs nothing for the port is the current decision, not a stale one',
      snapshot: () =>
        labWith((s) => {
          syslog(s, 'host');
          natAdd(s, 'nd1', [HOST_DNAT]);
          table(s, 'nd2', [
            BEFORE.replace(/10\.213\.0\.11/g, '10.213.0.12').replace('src=10.213.0.12 dst=10.213.0.12', 'src=10.213.0.13 dst=10.213.0.12'),
          ]);
        }),
      passes: [{ status: 'pass', messageId: 'notHere', node: 'nd2' }],
    },
    {
      name: 'a bundle from before the section existed: one skip per node',
      snapshot: () => labWith((s) => (syslog(s, 'host'), natAdd(s, 'nd1', [HOST_DNAT]))),
      skips: ['nd1', 'nd2', 'nd3'].map((node) => ({ status: 'skip', messageId: 'notCollected', node })),
    },
    {
      name: 'the section failed on nd1 (no proc table, no conntrack tool)',
      snapshot: () =>
        labWith((s) => {
          syslog(s, 'host');
          natAdd(s, 'nd1', [HOST_DNAT]);
          table(s, 'nd1', []);
          nodeOf(s, 'nd1').raw['host/conntrack-udp'] = failed(
            'no /proc/net/nf_conntrack, and no conntrack tool (package conntrack) to list the table',
            127,
          );
        }),
      skips: [{ status: 'skip', messageId: 'unreadable', node: 'nd1' }],
    },
  ],
  invalid: [
    {
      name: 'the client kept sending from before the host-mode service existed: still not NATed',
      snapshot: hostMode([BEFORE, ...OTHERS]),
      errors: [{ status: 'fail', messageId: 'notNatted', node: 'nd1' }],
    },
    {
      name: 'still DNATed to the task that was there before a redeploy',
      snapshot: hostMode([OLD_TASK, AFTER]),
      errors: [{ status: 'fail', messageId: 'oldTarget', node: 'nd1' }],
    },
    {
      name: "nd2's whole table as the mixed lab recorded it during the fault (Docker 20.10 kept nd3's un-NATed flow; nd1's later flow is DNATed; docker-proxy's own flows to the task)",
      snapshot: () =>
        labWith((s) => {
          syslog(s, 'host', 'nd2');
          natAdd(s, 'nd2', [HOST_DNAT]);
          table(s, 'nd2', fixture('lab-table.txt').trim().split('\n'));
        }),
      errors: [{ status: 'fail', messageId: 'notNatted', node: 'nd2' }],
    },
    {
      name: 'ingress mode: the flow predates DOCKER-INGRESS',
      snapshot: () =>
        labWith((s) => {
          syslog(s, 'ingress');
          natAdd(s, 'nd1', INGRESS_NAT);
          table(s, 'nd1', [BEFORE]);
        }),
      errors: [{ status: 'fail', messageId: 'notNatted', node: 'nd1' }],
    },
  ],
});

it('names node, service, port, client and the current DNAT, and the remediation deletes exactly that flow on that node', () => {
  const fs = runCheck(check, {
    name: 'x',
    snapshot: hostMode([BEFORE, BEFORE.replace('sport=58448', 'sport=58449').replace('dport=58448', 'dport=58449')]),
  });
  const f = fs.find((x) => x.status === 'fail')!;
  expect(f.detail).toContain('nd1: 2 UDP flows to 5514/udp (syslog, host mode) from 10.213.0.12 are still tracked as not NATed');
  expect(f.detail).toContain('172.17.0.2');
  expect(f.remediation).toContain('on nd1: `conntrack -D -p udp --dport 5514 --orig-src 10.213.0.12`');
  expect(f.remediation).toContain('package conntrack');
  const old = runCheck(check, { name: 'y', snapshot: hostMode([OLD_TASK]) }).find((x) => x.status === 'fail')!;
  expect(old.detail).toContain('still DNATed to 172.17.0.5, which no current rule names (the DNAT is now to 172.17.0.2)');
});

it('on the recorded table, names only the flow that is stale: from nd3, not nd1', () => {
  const snapshot = () =>
    labWith((s) => {
      syslog(s, 'host', 'nd2');
      natAdd(s, 'nd2', [HOST_DNAT]);
      table(s, 'nd2', fixture('lab-table.txt').trim().split('\n'));
    });
  const f = runCheck(check, { name: 'r', snapshot }).find((x) => x.status === 'fail')!;
  expect(f.detail).toContain('nd2: 1 UDP flow to 5514/udp (syslog, host mode) from 10.213.0.13 is still tracked as not NATed');
  expect(f.detail).not.toContain('10.213.0.11');
  expect(f.remediation).toContain('on nd2: `conntrack -D -p udp --dport 5514 --orig-src 10.213.0.13`');
});

it('quotes a hostile client address in the command (bundles are not trusted)', () => {
  const hostile = BEFORE.replace('src=10.213.0.12 dst=10.213.0.11', 'src=$(id) dst=10.213.0.11');
  const f = runCheck(check, { name: 'z', snapshot: hostMode([hostile]) }).find((x) => x.status === 'fail')!;
  expect(f.remediation).toContain("--orig-src '$(id)'");
});
