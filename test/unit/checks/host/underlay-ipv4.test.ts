import check from '../../../../src/checks/host/underlay-ipv4.js';
import { checkTester } from '../../../support/check-tester.js';
import { failed, lab, labWith, setSection } from '../../../support/lab-mutate.js';
import { withDockerInfo } from './daemon-info.js';

checkTester(check, {
  valid: [{ name: 'the lab: IPv4 advertise addresses', snapshot: lab, passes: [{ status: 'pass', messageId: 'ok', node: 'nd2' }] }],
  invalid: [
    {
      // As the lab shows it (test/e2e/rows.test.ts): nd3 joined the IPv4 manager with
      // --advertise-addr fd6e:646c:6162::13; the manager's Status.Addr is still the IPv4
      // address the node connected from, only the node's own docker info has the IPv6 one.
      name: 'nd2 joined with an IPv6 advertise address (#41691): its docker info says so, the manager saw it over IPv4',
      snapshot: () => labWith((s) => withDockerInfo(s, 'nd2', (i) => (i.Swarm.NodeAddr = 'fd6e:646c:6162::12'))),
      errors: [{ status: 'fail', messageId: 'ipv6', node: 'nd2' }],
    },
    {
      name: "docker info unreadable on nd2: the manager's view of an IPv6 address",
      snapshot: () =>
        labWith((s) => {
          setSection(
            s,
            'nd2',
            'host/docker-info',
            failed('Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?'),
          );
          s.cluster.nodes.find((n) => n.name === 'nd2')!.advertiseAddress = 'fd00:213::12';
        }),
      errors: [{ status: 'fail', messageId: 'ipv6', node: 'nd2' }],
    },
  ],
});
