import { listText } from '../../text/list.js';
import { defineCheck } from '../types.js';

export default defineCheck({
  meta: {
    id: 'underlay.esp.reachable',
    layer: 'underlay',
    title: 'IPsec ESP passes between nodes (encrypted overlays)',
    looksAt: 'encrypted overlays present; ESP (IP protocol 50) between nodes',
    remediation: 'allow IP protocol 50 (ESP) between all nodes: iptables -I INPUT -p esp -j ACCEPT (and in cloud firewalls)',
    scope: 'cluster',
    failures: [14],
    messages: {
      notNeeded: 'no encrypted overlay networks: ESP is not needed',
      cannotProbe:
        'encrypted overlays ({networks}) need ESP between nodes; netdoctor cannot send ESP without an SA, see host.firewall.ports and overlay.encryption.xfrm',
    },
  },
  check({ model, report }) {
    const encrypted = model.networks.filter((n) => n.encrypted).map((n) => n.name);
    if (encrypted.length === 0) return report('pass', 'notNeeded');
    // ESP cannot be originated without an SA; firewall rules are read by host.firewall.ports
    // and the SAs themselves by overlay.encryption.xfrm.
    report('skip', 'cannotProbe', { networks: listText(encrypted) });
  },
});
