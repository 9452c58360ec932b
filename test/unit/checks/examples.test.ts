/** The per-file checks, through the shared check tester (message ids and places, not prose). */
import swarmActive from '../../../src/checks/cluster/swarm-active.js';
import dockerdRunning from '../../../src/checks/host/dockerd-running.js';
import encryptionXfrm from '../../../src/checks/overlay/encryption-xfrm.js';
import { checkTester } from '../../support/check-tester.js';
import { lab, labWith, makeUnreachable, NDNET_SANDBOX, nodeOf, ok, failed, setSection } from '../../support/lab-mutate.js';

checkTester(swarmActive, {
  valid: [{ name: 'the lab manager', snapshot: lab, passes: [{ status: 'pass', messageId: 'active' }] }],
  invalid: [
    {
      name: 'an endpoint in no swarm',
      snapshot: () =>
        labWith((s) => {
          s.cluster.swarmId = null;
        }),
      errors: [{ status: 'fail', messageId: 'inactive', node: null }],
    },
  ],
});

checkTester(dockerdRunning, {
  valid: [
    { name: 'healthy lab', snapshot: lab, passes: [{ status: 'pass', messageId: 'running', node: 'nd2' }] },
    {
      name: 'a node not collected is skipped by the framework',
      snapshot: () => labWith((s) => makeUnreachable(s, 'nd3')),
      skips: [{ status: 'skip', messageId: 'skip.not-collected', node: 'nd3' }],
    },
  ],
  invalid: [
    {
      name: 'dockerd stopped on nd2 (pidof finds nothing)',
      snapshot: () => labWith((s) => setSection(s, 'nd2', 'host/dockerd-pid', failed('', 1))),
      errors: [{ status: 'fail', messageId: 'stopped', node: 'nd2' }],
    },
  ],
});

const encrypt = (s: ReturnType<typeof lab>) => {
  s.cluster.networks.find((n) => n.name === 'ndnet')!.encrypted = true;
};
const sa = (src: string, dst: string) =>
  `src ${src} dst ${dst}\n\tproto esp spi 0x0000c0de reqid 0 mode transport\n\treplay-window 0\n\taead rfc4106(gcm(aes)) <redacted> 64\n`;
const IP = { nd1: '10.213.0.11', nd2: '10.213.0.12', nd3: '10.213.0.13' };

checkTester(encryptionXfrm, {
  valid: [
    { name: 'no encrypted network: nothing applies', snapshot: lab, passes: [{ status: 'pass', messageId: 'pass.not-applicable' }] },
    {
      name: 'full mesh of SAs',
      snapshot: () =>
        labWith((s) => {
          encrypt(s);
          for (const [me, ip] of Object.entries(IP)) {
            const others = Object.values(IP).filter((x) => x !== ip);
            nodeOf(s, me).raw[`netns/${NDNET_SANDBOX}/xfrm-state`] = ok(others.map((o) => sa(ip, o) + sa(o, ip)).join(''));
          }
        }),
      passes: [{ status: 'pass', messageId: 'present', node: 'nd1', peer: 'nd2', network: 'ndnet' }],
    },
  ],
  invalid: [
    {
      name: 'no SA anywhere (this lab kernel has no XFRM), xfrm unreadable on nd3',
      snapshot: () =>
        labWith((s) => {
          encrypt(s);
          nodeOf(s, 'nd1').raw[`netns/${NDNET_SANDBOX}/xfrm-state`] = ok('');
          nodeOf(s, 'nd2').raw[`netns/${NDNET_SANDBOX}/xfrm-state`] = ok(sa(IP.nd2, IP.nd1));
          nodeOf(s, 'nd3').raw[`netns/${NDNET_SANDBOX}/xfrm-state`] = failed('Operation not permitted');
        }),
      errors: [
        { status: 'fail', messageId: 'noSas', node: 'nd1', network: 'ndnet' },
        { status: 'fail', messageId: 'missing', node: 'nd2', peer: 'nd1', network: 'ndnet' },
        { status: 'fail', messageId: 'missing', node: 'nd2', peer: 'nd3', network: 'ndnet' },
      ],
      skips: [{ status: 'skip', messageId: 'unreadable', node: 'nd3', network: 'ndnet' }],
    },
  ],
});
