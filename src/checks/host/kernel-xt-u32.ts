/**
 * xt_u32 for encrypted overlays (moby#43382, RHEL 8/9): Docker guards each
 * encrypted network's VNI with an iptables `-m u32` rule that drops VXLAN
 * arriving without IPsec. Without the module the rule cannot be added
 * ("Couldn't load match `u32'") and the encryption rules are missing.
 */
import type { NodeModel } from '../../model/types.js';
import { listText } from '../../text/list.js';
import { code, prose } from '../../text/shell.js';
import { defineCheck } from '../types.js';

/** Docker's u32 guard rule in any host dump proves the match works. */
const hasU32Rule = (node: NodeModel): boolean =>
  node.firewall.all.some(({ dump }) => Object.values(dump.tables).some((t) => t.rules.some((r) => r.match.includes('u32'))));

export default defineCheck({
  meta: {
    id: 'host.kernel.xt-u32',
    layer: 'host',
    title: 'xt_u32 where overlays are encrypted',
    looksAt:
      "Only when an overlay network is encrypted: the xt_u32 module (/sys/module, /proc/modules), or a `-m u32` rule in the host's iptables (Docker's guard for encrypted VNIs), which proves the match works even when it is built in.",
    remediation: 'Load xt_u32 (`modprobe xt_u32`, persisted in /etc/modules-load.d/); on RHEL 8/9 it ships in kernel-modules-extra.',
    scope: 'node',
    failures: [17],
    messages: {
      notCollected: 'module list not collected: {why}',
      notListed: 'this collection did not look for xt_u32 (an older netdoctor or bundle)',
      noEncryption: 'no encrypted overlay: xt_u32 is not needed',
      missing:
        'xt_u32 is not loaded on {node} and no iptables rule there uses the u32 match, while {networks} {are} encrypted: Docker cannot add the rule that drops unencrypted VXLAN for them ("Couldn\'t load match `u32\'"), so the encryption rules are missing',
      present: 'xt_u32 {how} on {node} for the encrypted {networks}',
    },
  },
  check({ model, node, report }) {
    const encrypted = model.overlayNetworks.filter((n) => n.encrypted);
    if (encrypted.length === 0) return report('pass', 'noEncryption');
    const networks = listText(encrypted.map((n) => n.name));
    if (hasU32Rule(node)) return report('pass', 'present', { how: 'works (a u32 rule is in place)', node: node.name, networks });
    const m = node.host!.modules;
    if (Object.keys(m).length === 0) return report('skip', 'notCollected', { why: node.unavailable('host/modules', 'module check') });
    if (!Object.hasOwn(m, 'xt_u32')) return report('skip', 'notListed');
    if (m.xt_u32 === true) return report('pass', 'present', { how: 'is loaded', node: node.name, networks });
    report(
      'fail',
      'missing',
      { node: node.name, networks, are: encrypted.length === 1 ? 'is' : 'are' },
      {
        network: encrypted[0]!.name,
        remediation: `On ${prose(node.name)}: ${code('modprobe xt_u32 && echo xt_u32 > /etc/modules-load.d/xt_u32.conf')} (RHEL 8/9: ${code('dnf install kernel-modules-extra')} first), then ${code('systemctl restart docker')} so Docker adds its encryption rules.`,
      },
    );
  },
});
