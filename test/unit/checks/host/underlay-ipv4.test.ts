import check from '../../../../src/checks/host/underlay-ipv4.js';
import type { ClusterSnapshot } from '../../../../src/snapshot/types.js';
import { checkTester } from '../../../support/check-tester.js';
import { failed, lab, labWith, nodeOf, setSection } from '../../../support/lab-mutate.js';
import { withDockerInfo } from './daemon-info.js';

/** `node` advertises `addr` (its own docker info) and runs Engine `engine`. */
const advertising = (s: ClusterSnapshot, node: string, addr: string, engine: string) => {
  withDockerInfo(s, node, (i) => (i.Swarm.NodeAddr = addr));
  nodeOf(s, node).host!.dockerVersion = engine;
};

checkTester(check, {
  valid: [
    { name: 'the lab: IPv4 advertise addresses', snapshot: lab, passes: [{ status: 'pass', messageId: 'ok', node: 'nd2' }] },
    {
      name: 'an IPv6-only swarm on Engine 26: the overlay carries IPv6 since 25.0',
      snapshot: () =>
        labWith((s) => {
          for (const k of [1, 2, 3]) advertising(s, `nd${k}`, `fd6e:646c:6162::1${k}`, '26.1.5+dfsg1');
        }),
      passes: [{ status: 'pass', messageId: 'ipv6ok', node: 'nd2' }],
    },
  ],
  invalid: [
    {
      // As the lab shows it (test/e2e/rows.test.ts): nd3 joined the IPv4 manager with
      // --advertise-addr fd6e:646c:6162::13; the manager's Status.Addr is still the IPv4
      // address the node connected from, only the node's own docker info has the IPv6 one.
      name: 'nd2 joined with an IPv6 advertise address on Engine 26 while nd1 and nd3 advertise IPv4 (the manager saw nd2 over IPv4)',
      snapshot: () => labWith((s) => advertising(s, 'nd2', 'fd6e:646c:6162::12', '26.1.5+dfsg1')),
      errors: [{ status: 'fail', messageId: 'mixed', node: 'nd2' }],
    },
    {
      name: 'nd2 advertises IPv6 on Engine 20.10 (#41691): no IPv6 VXLAN transport before 25.0',
      snapshot: () => labWith((s) => advertising(s, 'nd2', 'fd6e:646c:6162::12', '20.10.24+dfsg1')),
      errors: [{ status: 'fail', messageId: 'ipv6', node: 'nd2' }],
    },
    {
      name: "docker info and the version unreadable on nd2: the manager's view of an IPv6 address",
      snapshot: () =>
        labWith((s) => {
          setSection(
            s,
            'nd2',
            'host/docker-info',
            failed('Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?'),
          );
          nodeOf(s, 'nd2').host!.dockerVersion = null;
          s.cluster.nodes.find((n) => n.name === 'nd2')!.advertiseAddress = 'fd00:213::12';
          s.cluster.nodes.find((n) => n.name === 'nd2')!.engineVersion = null;
        }),
      errors: [{ status: 'fail', messageId: 'ipv6', node: 'nd2' }],
    },
  ],
});
