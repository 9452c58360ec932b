import { readFileSync } from 'node:fs';
import check from '../../../../src/checks/host/firewall-ports.js';
import type { ClusterSnapshot } from '../../../../src/snapshot/types.js';
import { checkTester } from '../../../support/check-tester.js';
import { failed, lab, labWith, makeUnreachable, nodeOf, ok, setSection } from '../../../support/lab-mutate.js';

const fixture = (name: string): string => readFileSync(new URL(`../../../fixtures/iptables/${name}`, import.meta.url), 'utf8');

/** The node's recorded iptables-save with rules added ahead of Docker's (and chain policies changed). */
function withRules(s: ClusterSnapshot, node: string, rules: string[], policies: Record<string, string> = {}): void {
  let text = nodeOf(s, node).raw['host/iptables-save']!.stdout;
  for (const [chain, policy] of Object.entries(policies)) text = text.replace(`:${chain} ACCEPT [0:0]`, `:${chain} ${policy} [0:0]`);
  setSection(
    s,
    node,
    'host/iptables-save',
    ok(text.replace(':DOCKER-USER - [0:0]\n', `:DOCKER-USER - [0:0]\n${rules.map((r) => `${r}\n`).join('')}`)),
  );
}

/** A real dump cut short mid-line, before its filter table: read naively it filters nothing. */
const full = fixture('swarm-node-docker24-legacy.txt');
const TRUNCATED = full.slice(0, full.indexOf('--dport 5353') + '--dport'.length);

checkTester(check, {
  valid: [
    { name: 'the lab: everything accepted', snapshot: lab, passes: [{ status: 'pass', messageId: 'open', node: 'nd2' }] },
    {
      name: 'iptables-save failed on nd2; nd3 not collected',
      snapshot: () =>
        labWith((s) => {
          setSection(s, 'nd2', 'host/iptables-save', failed('iptables-save: command not found', 127));
          makeUnreachable(s, 'nd3');
        }),
      skips: [
        { status: 'skip', messageId: 'unreadable', node: 'nd2' },
        { status: 'skip', messageId: 'skip.not-collected', node: 'nd3' },
      ],
    },
  ],
  invalid: [
    {
      name: 'nd2 drops udp/4789 from everyone and tcp/7946 from nd1',
      snapshot: () =>
        labWith((s) =>
          withRules(s, 'nd2', [
            '-A INPUT -p udp -m udp --dport 4789 -j DROP',
            '-A INPUT -s 10.213.0.11/32 -p tcp -m tcp --dport 7946 -j REJECT --reject-with icmp-port-unreachable',
          ]),
        ),
      errors: [
        { status: 'fail', messageId: 'dropped', node: 'nd2', peer: null },
        { status: 'fail', messageId: 'dropped', node: 'nd2', peer: 'nd1' },
      ],
    },
    {
      name: 'recorded ufw rule set on nd2 (drops udp/4789 in ufw-user-input; the other swarm ports allowed)',
      snapshot: () => labWith((s) => setSection(s, 'nd2', 'host/iptables-save', ok(fixture('ufw-swarm.txt')))),
      errors: [{ status: 'fail', messageId: 'dropped', node: 'nd2', peer: null }],
    },
    {
      name: 'an ipset allow netdoctor cannot evaluate before a drop (nd3)',
      snapshot: () =>
        labWith((s) => withRules(s, 'nd3', ['-A INPUT -m set --match-set swarm-nodes src -j ACCEPT', '-A INPUT -p udp -m udp --dport 4789 -j DROP'])),
      errors: [{ status: 'warn', messageId: 'maybe', node: 'nd3', peer: null }],
    },
    {
      name: "the worker nd3's OUTPUT drops 2377 to the manager",
      snapshot: () => labWith((s) => withRules(s, 'nd3', ['-A OUTPUT -d 10.213.0.11/32 -p tcp -m tcp --dport 2377 -j DROP'])),
      errors: [{ status: 'fail', messageId: 'dropped', node: 'nd3', peer: 'nd1' }],
    },
    {
      name: 'issue 8: a truncated dump on nd2 is a warning, not a pass',
      snapshot: () => labWith((s) => setSection(s, 'nd2', 'host/iptables-save', ok(TRUNCATED))),
      errors: [{ status: 'warn', messageId: 'incomplete', node: 'nd2' }],
    },
    {
      name: 'a dump cut inside a rule that drops: the drop found and the warning both',
      snapshot: () => labWith((s) => withRules(s, 'nd1', ['-A INPUT -p udp -m udp --dport 4789 -j DROP', '-A INPUT -p tcp -m tcp --dport'])),
      errors: [
        { status: 'fail', messageId: 'dropped', node: 'nd1' },
        { status: 'warn', messageId: 'incomplete', node: 'nd1' },
      ],
    },
  ],
});
