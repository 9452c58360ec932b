/** The underlay checks through the shared tester: probe results recorded in the example bundle, on the recorded lab. */
import { readFileSync } from 'node:fs';
import datapathUdp from '../../../../src/checks/underlay/datapath-udp.js';
import espReachable from '../../../../src/checks/underlay/esp-reachable.js';
import gossipTcp7946 from '../../../../src/checks/underlay/gossip-tcp-7946.js';
import gossipUdp7946 from '../../../../src/checks/underlay/gossip-udp-7946.js';
import managerTcp2377 from '../../../../src/checks/underlay/manager-tcp-2377.js';
import mtuPath from '../../../../src/checks/underlay/mtu-path.js';
import type { PortProbe, ProbeResults } from '../../../../src/probe/types.js';
import type { ClusterSnapshot } from '../../../../src/snapshot/types.js';
import { checkTester } from '../../../support/check-tester.js';
import { lab, labWith, nodeOf, ok, setSection } from '../../../support/lab-mutate.js';

/** Probe results as probe/run.ts records them (its own detail strings), for the lab's three nodes. */
const probes = (ports: PortProbe[], over: Partial<ProbeResults> = {}): ProbeResults => ({
  startedAt: '2026-11-25T15:12:01.000Z',
  durationMs: 3000,
  ports,
  mtu: [],
  dataPath: [],
  errors: [],
  ...over,
});
const udp = (from: string, to: string, port: number, state: PortProbe['state'], detail: string): PortProbe => ({
  from,
  to,
  proto: 'udp',
  port,
  purpose: port === 7946 ? 'gossip' : 'data-path',
  state,
  detail,
});
const seen = (to: string) => `datagrams seen arriving on ${to}`;
const esp = (from: string, to: string, state: PortProbe['state'], detail: string): PortProbe => ({
  from,
  to,
  proto: 'esp',
  port: null,
  purpose: 'esp',
  state,
  detail,
});

const withFilter = (s: ClusterSnapshot, node: string, rule: string) => {
  const text = nodeOf(s, node).raw['host/iptables-save']!.stdout;
  setSection(s, node, 'host/iptables-save', ok(text.replace(':DOCKER-USER - [0:0]\n', `:DOCKER-USER - [0:0]\n${rule}\n`)));
};
const full = readFileSync(new URL('../../../fixtures/iptables/swarm-node-docker24-legacy.txt', import.meta.url), 'utf8');
const TRUNCATED = full.slice(0, full.indexOf('--dport 5353') + '--dport'.length);

checkTester(datapathUdp, {
  valid: [
    { name: 'no probes run: one framework skip', snapshot: lab, probes: null, skips: [{ status: 'skip', messageId: 'skip.no-probes', node: null }] },
    {
      name: 'VXLAN seen on the receiver, its firewall accepts it',
      snapshot: lab,
      probes: probes([udp('nd2', 'nd1', 4789, 'ok', seen('nd1'))]),
      passes: [{ status: 'pass', messageId: 'ok', node: 'nd2', peer: 'nd1' }],
    },
    {
      name: 'a node that could not probe is a skip at that node',
      snapshot: lab,
      probes: probes([], { errors: [{ node: 'nd3', message: 'no probes from nd3: timed out' }] }),
      skips: [{ status: 'skip', messageId: 'probeError', node: 'nd3' }],
    },
  ],
  invalid: [
    {
      name: 'blocked and unconfirmed probes',
      snapshot: lab,
      probes: probes([
        udp('nd2', 'nd1', 4789, 'blocked', '3 datagrams sent from nd2, none arrived on nd1 within 3 s'),
        udp('nd3', 'nd1', 4789, 'unconfirmed', 'sent; no tcpdump on nd1 to confirm receipt'),
      ]),
      errors: [
        { status: 'fail', messageId: 'blocked', node: 'nd2', peer: 'nd1' },
        { status: 'warn', messageId: 'unconfirmed', node: 'nd3', peer: 'nd1' },
      ],
    },
    {
      name: "seen on nd1's wire but dropped by nd1's own INPUT (a capture sees packets before netfilter)",
      snapshot: () => labWith((s) => withFilter(s, 'nd1', '-A INPUT -p udp -m udp --dport 4789 -j DROP')),
      probes: probes([udp('nd2', 'nd1', 4789, 'ok', seen('nd1'))]),
      errors: [{ status: 'fail', messageId: 'receiverDrops', node: 'nd2', peer: 'nd1' }],
    },
    {
      name: 'issue 8: seen on nd1, whose firewall dump is truncated: unknown, not ok',
      snapshot: () => labWith((s) => setSection(s, 'nd1', 'host/iptables-save', ok(TRUNCATED))),
      probes: probes([udp('nd2', 'nd1', 4789, 'ok', seen('nd1'))]),
      errors: [{ status: 'warn', messageId: 'receiverUnread', node: 'nd2', peer: 'nd1' }],
    },
  ],
});

checkTester(gossipUdp7946, {
  invalid: [
    {
      name: 'an ipset rule on nd3 may drop gossip that arrives',
      snapshot: () => labWith((s) => withFilter(s, 'nd3', '-A INPUT -m set ! --match-set swarm src -j DROP')),
      probes: probes([udp('nd1', 'nd3', 7946, 'ok', seen('nd3')), udp('nd1', 'nd2', 7946, 'ok', seen('nd2'))]),
      errors: [{ status: 'warn', messageId: 'receiverMaybe', node: 'nd1', peer: 'nd3' }],
    },
  ],
});

const tcp = (from: string, to: string, port: number, state: PortProbe['state'], detail: string): PortProbe => ({
  from,
  to,
  proto: 'tcp',
  port,
  purpose: port === 2377 ? 'manager' : 'gossip',
  state,
  detail,
});

checkTester(managerTcp2377, {
  valid: [
    {
      name: 'workers reach the manager',
      snapshot: lab,
      probes: probes([tcp('nd2', 'nd1', 2377, 'ok', 'TCP handshake completed')]),
      passes: [{ status: 'pass', messageId: 'ok', node: 'nd2', peer: 'nd1' }],
    },
  ],
  invalid: [
    {
      name: 'a TCP probe is not second-guessed by the receiver firewall: the handshake passed INPUT',
      snapshot: () => labWith((s) => withFilter(s, 'nd1', '-A INPUT -p tcp -m tcp --dport 2377 -j DROP')),
      probes: probes([
        tcp('nd2', 'nd1', 2377, 'ok', 'TCP handshake completed'),
        tcp('nd3', 'nd1', 2377, 'blocked', 'no answer within 3 s (dropped by a firewall or no route)'),
      ]),
      errors: [{ status: 'fail', messageId: 'blocked', node: 'nd3', peer: 'nd1' }],
    },
  ],
});

checkTester(gossipTcp7946, {
  invalid: [
    {
      name: 'connection refused',
      snapshot: lab,
      probes: probes([tcp('nd1', 'nd3', 7946, 'blocked', 'connection refused (nothing listening, or a REJECT rule)')]),
      errors: [{ status: 'fail', messageId: 'blocked', node: 'nd1', peer: 'nd3' }],
    },
  ],
});

checkTester(espReachable, {
  valid: [
    { name: 'no encrypted overlay', snapshot: lab, passes: [{ status: 'pass', messageId: 'notNeeded' }] },
    {
      name: 'an encrypted overlay and no probes: a skip naming it',
      snapshot: () =>
        labWith((s) => {
          s.cluster.networks.find((n) => n.name === 'ndnet')!.encrypted = true;
        }),
      probes: null,
      skips: [{ status: 'skip', messageId: 'noProbes', node: null }],
    },
    {
      name: 'ESP seen arriving on the receiver, whose firewall accepts it',
      snapshot: lab,
      probes: probes([esp('nd1', 'nd2', 'ok', 'ESP packets (IP protocol 50) seen arriving on nd2')]),
      passes: [{ status: 'pass', messageId: 'ok', node: 'nd1', peer: 'nd2' }],
    },
  ],
  invalid: [
    {
      name: 'ESP dropped on the way, and not sent for lack of perl and python3',
      snapshot: lab,
      probes: probes([
        esp('nd2', 'nd3', 'blocked', '3 ESP packets (IP protocol 50) sent from nd2, none arrived on nd3 while every sender ran'),
        esp('nd3', 'nd1', 'unconfirmed', 'ESP not sent: nd3 has neither perl (with its Socket module) nor python3 to send raw IP packets'),
      ]),
      errors: [
        { status: 'fail', messageId: 'blocked', node: 'nd2', peer: 'nd3' },
        { status: 'warn', messageId: 'unconfirmed', node: 'nd3', peer: 'nd1' },
      ],
    },
  ],
});

const mtu = (from: string, to: string, state: PortProbe['state'], detail: string) => ({ from, to, payload: 1472, required: 1500, state, detail });

checkTester(mtuPath, {
  valid: [
    {
      name: 'full-size DF pings pass',
      snapshot: lab,
      probes: probes([], { mtu: [mtu('nd1', 'nd2', 'ok', '1500-byte packets with DF pass')] }),
      passes: [{ status: 'pass', messageId: 'ok', node: 'nd1', peer: 'nd2' }],
    },
  ],
  invalid: [
    {
      name: 'a path that drops full-size packets, and one that could not be told',
      snapshot: lab,
      probes: probes([], {
        mtu: [
          mtu('nd1', 'nd2', 'blocked', '1500-byte packets with DF do not pass though small pings do: path MTU is below overlay MTU + 50'),
          mtu('nd3', 'nd2', 'unconfirmed', 'ICMP echo is not answered at all; path MTU cannot be measured'),
        ],
      }),
      errors: [
        { status: 'fail', messageId: 'blocked', node: 'nd1', peer: 'nd2' },
        { status: 'warn', messageId: 'unconfirmed', node: 'nd3', peer: 'nd2' },
      ],
    },
  ],
});
