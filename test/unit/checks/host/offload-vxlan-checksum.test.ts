import check from '../../../../src/checks/host/offload-vxlan-checksum.js';
import { checkTester } from '../../../support/check-tester.js';
import { failed, lab, labWith, ok, setSection } from '../../../support/lab-mutate.js';

/** `ethtool -k` of a VMware guest's vmxnet3 NIC, under the script's `## <if> <driver>` header. */
const VMXNET3 = (generic: string) =>
  `## eth0 vmxnet3\ntx-checksumming: on\n\ttx-checksum-ipv4: off [fixed]\n\ttx-checksum-ip-generic: ${generic}\n\ttx-checksum-ipv6: off [fixed]\ntcp-segmentation-offload: on\ngeneric-segmentation-offload: on\ntx-udp_tnl-segmentation: on`;

checkTester(check, {
  valid: [
    { name: 'the lab: no physical NIC', snapshot: lab, passes: [{ status: 'pass', messageId: 'noNics', node: 'nd1' }] },
    {
      name: 'vmxnet3 with the offload off',
      snapshot: () => labWith((s) => setSection(s, 'nd1', 'host/ethtool', ok(VMXNET3('off')))),
      passes: [{ status: 'pass', messageId: 'checked', node: 'nd1' }],
    },
    {
      name: 'ethtool missing',
      snapshot: () => labWith((s) => setSection(s, 'nd2', 'host/ethtool', failed('sh: 1: ethtool: not found', 127))),
      skips: [{ status: 'skip', messageId: 'notCollected', node: 'nd2' }],
    },
  ],
  invalid: [
    {
      name: 'vmxnet3 with tx-checksum-ip-generic on (nd1) and fixed on (nd3)',
      snapshot: () =>
        labWith((s) => {
          setSection(s, 'nd1', 'host/ethtool', ok(VMXNET3('on')));
          setSection(s, 'nd3', 'host/ethtool', ok(VMXNET3('on [fixed]')));
        }),
      errors: [
        { status: 'warn', messageId: 'vmxnet3', node: 'nd1' },
        { status: 'warn', messageId: 'vmxnet3', node: 'nd3' },
      ],
    },
  ],
});
