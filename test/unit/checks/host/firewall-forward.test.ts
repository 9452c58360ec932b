import check from '../../../../src/checks/host/firewall-forward.js';
import { checkTester } from '../../../support/check-tester.js';
import { failed, lab, labWith, nodeOf, ok, setSection } from '../../../support/lab-mutate.js';
import { fixture, HOST_NAT_OK, labWithIpvs } from '../../../support/lb-fixtures.js';

/** The recorded lab's nd1 iptables-save with `fn` applied to its lines. */
const labDump = (fn: (lines: string[]) => string[]) =>
  labWith((s) => {
    const text = nodeOf(s, 'nd1').raw['host/iptables-save']!.stdout;
    setSection(s, 'nd1', 'host/iptables-save', ok(fn(text.split('\n')).join('\n')));
  });

/** Lines added right after the first `-A <chain>` line's position (or after the chain declarations of the filter table). */
const insertBefore = (lines: string[], marker: string, added: string[]): string[] => {
  const i = lines.findIndex((l) => l.startsWith(marker));
  return [...lines.slice(0, i), ...added, ...lines.slice(i)];
};

/** ufw-docker's layout: DOCKER-USER hands forwarded traffic to ufw-user-forward, where a deny ends it. */
const UFW_DOCKER_USER = (deny: string) => (lines: string[]) =>
  insertBefore(insertBefore(lines, '-A DOCKER-USER -j RETURN', ['-A DOCKER-USER -j ufw-user-forward']), '-A DOCKER-USER -j ufw-user-forward', [
    `-A ufw-user-forward ${deny}`,
  ]);

/** The docker 24 host dump (mesh on 8080) with the filter table's DOCKER-INGRESS chain gone, as a firewalld reload leaves it. */
const FILTER_INGRESS_FLUSHED = (() => {
  const lines = HOST_NAT_OK.split('\n');
  const start = lines.indexOf('*filter');
  return lines.filter((l, i) => i < start || !l.includes('DOCKER-INGRESS')).join('\n');
})();

const withUfwChains = (text: string, deny: string): string => {
  const lines = text.split('\n');
  const filter = lines.indexOf('*filter');
  return UFW_DOCKER_USER(deny)([...lines.slice(0, filter + 1), ':ufw-user-forward - [0:0]', ...lines.slice(filter + 1)]).join('\n');
};

checkTester(check, {
  valid: [
    {
      name: "the lab: FORWARD policy DROP, Docker's rules accept egress (mesh not evaluated: no IPVS)",
      snapshot: lab,
      passes: [{ status: 'pass', messageId: 'open', node: 'nd1' }],
    },
    {
      name: 'docker 24 with the mesh on 8080: egress and mesh pass FORWARD DROP',
      snapshot: () => labWithIpvs(),
      passes: [{ status: 'pass', messageId: 'open', node: 'nd1' }],
    },
    {
      name: "ufw with DEFAULT_FORWARD_POLICY=DROP after Docker's rules (the real ufw dump)",
      snapshot: () => labWithIpvs({ hostIptables: fixture('iptables', 'ufw-swarm.txt') }),
      passes: [{ status: 'pass', messageId: 'open', node: 'nd1' }],
    },
    {
      name: 'iptables-save failed on nd2',
      snapshot: () => labWith((s) => setSection(s, 'nd2', 'host/iptables-save', failed('iptables-save: command not found', 127))),
      skips: [{ status: 'skip', messageId: 'unreadable', node: 'nd2' }],
    },
  ],
  invalid: [
    {
      name: 'ufw-user-forward reached from DOCKER-USER drops everything (egress dead on nd1)',
      snapshot: () => labDump((l) => insertBefore(UFW_DOCKER_USER('-j DROP')(l), ':DOCKER ', [':ufw-user-forward - [0:0]'])),
      errors: [{ status: 'fail', messageId: 'dropped', node: 'nd1' }],
    },
    {
      name: 'a FORWARD rule ahead of Docker drops what leaves docker_gwbridge',
      snapshot: () => labDump((l) => insertBefore(l, '-A FORWARD -j DOCKER-USER', ['-A FORWARD -i docker_gwbridge -o eth0 -j DROP'])),
      errors: [{ status: 'fail', messageId: 'dropped', node: 'nd1' }],
    },
    {
      name: 'DOCKER-USER drops replies coming back into docker_gwbridge',
      snapshot: () =>
        labDump((l) => insertBefore(l, '-A DOCKER-USER -j RETURN', ['-A DOCKER-USER -o docker_gwbridge -m conntrack --ctstate ESTABLISHED -j DROP'])),
      errors: [{ status: 'fail', messageId: 'dropped', node: 'nd1' }],
    },
    {
      name: 'an ipset blocklist in DOCKER-USER: may drop',
      snapshot: () => labDump((l) => insertBefore(l, '-A DOCKER-USER -j RETURN', ['-A DOCKER-USER -m set --match-set blocklist dst -j DROP'])),
      errors: [{ status: 'warn', messageId: 'maybe', node: 'nd1' }],
    },
    {
      name: 'firewalld reload flushed the filter DOCKER-INGRESS: the mesh on 8080 meets FORWARD DROP',
      snapshot: () => labWithIpvs({ hostIptables: FILTER_INGRESS_FLUSHED }),
      errors: [{ status: 'fail', messageId: 'dropped', node: 'nd1' }],
    },
    {
      name: 'ufw route deny for 8080 reached from DOCKER-USER: mesh dropped, egress fine',
      snapshot: () => labWithIpvs({ hostIptables: withUfwChains(HOST_NAT_OK, '-o docker_gwbridge -p tcp -m tcp --dport 8080 -j DROP') }),
      errors: [{ status: 'fail', messageId: 'dropped', node: 'nd1' }],
    },
  ],
});
