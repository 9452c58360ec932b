import { interfaceWithAddress, plural } from '../../model/nodes.js';
import type { Unavailable } from '../../snapshot/types.js';
import { code, prose, shq } from '../../text/shell.js';
import { defineCheck } from '../types.js';

// A NIC named `unavailable` cannot be told from the marker by `in` alone.
const isUnavailable = (o: object): o is Unavailable =>
  (o as Partial<Unavailable>).unavailable === true && typeof (o as Partial<Unavailable>).reason === 'string';

export default defineCheck({
  meta: {
    id: 'host.offload.vxlan-checksum',
    layer: 'host',
    title: 'NIC offloads safe for VXLAN',
    looksAt:
      '`ethtool -k` of each physical NIC: vmxnet3 (VMware) with tx-checksum-ip-generic on is known to send VXLAN packets with bad inner checksums.',
    remediation: '`ethtool -K <if> tx-checksum-ip-generic off` on the node, persisted in the network configuration.',
    scope: 'node',
    failures: [3],
    messages: {
      notCollected: 'NIC offloads not collected: {reason}',
      noNics: 'no physical NICs (ethtool saw only virtual interfaces)',
      checked: '{count} checked ({nics})',
      vmxnet3:
        '{nic} on {node} (vmxnet3{underlay}) has {feature} {value}: vmxnet3 checksum offload is known to corrupt VXLAN-encapsulated packets, so overlay TCP stalls or fails while small pings get through{nsx}.',
    },
  },
  check({ model, node, report }) {
    const o = node.host!.offload;
    if (isUnavailable(o)) return report('skip', 'notCollected', { reason: o.reason });
    const nics = Object.entries(o);
    if (nics.length === 0) return report('pass', 'noNics');
    const dp = model.cluster.dataPathPort;
    const n = node.name;
    const self = node.addr;
    const underlay = self ? interfaceWithAddress(node.host!, self) : null;
    let warned = false;
    for (const [nic, { driver, features }] of nics) {
      // tx-checksum-ip-generic is the one that matters; tx-checksumming (its parent) when only that was read.
      const feature = features['tx-checksum-ip-generic'] !== undefined ? 'tx-checksum-ip-generic' : 'tx-checksumming';
      const value = features[feature];
      if (driver !== 'vmxnet3' || value === undefined || !value.startsWith('on')) continue;
      warned = true;
      const nsx = dp === 4789;
      report(
        'warn',
        'vmxnet3',
        {
          nic,
          node: n,
          underlay: nic === underlay ? `, carries the advertise address ${self}` : '',
          feature,
          value,
          nsx: nsx ? "; on VMware NSX hosts udp/4789 is also NSX's own VXLAN port" : '',
        },
        {
          remediation: value.includes('[fixed]')
            ? `On ${prose(n)}: the feature is fixed on in the driver; update VMware Tools/ESXi${nsx ? ', or re-create the swarm with `docker swarm init --data-path-port 4800`' : ''}.`
            : `On ${prose(n)}: ${code(`ethtool -K ${shq(nic)} tx-checksum-ip-generic off`)} and persist it (a NetworkManager dispatcher, networkd .link file or udev rule)${nsx ? '; on NSX also consider `--data-path-port`' : ''}.`,
        },
      );
    }
    if (!warned)
      report('pass', 'checked', {
        count: plural(nics.length, 'NIC'),
        nics: nics.map(([i, x]) => `${i}: ${x.driver ?? 'unknown driver'}`).join(', '),
      });
  },
});
