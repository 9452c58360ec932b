/**
 * NetworkManager managing Docker's interfaces: a managed docker0,
 * docker_gwbridge, br-<id>, veth or vxlan device can be reconfigured by NM
 * (addresses flushed, DHCP started, device taken down), and the bridges lose
 * their IP. Docker's devices should be `unmanaged` (or only observed:
 * `connected (externally)`).
 */
import { isDockerInterface } from '../../model/nodes.js';
import { listText } from '../../text/list.js';
import { code, prose } from '../../text/shell.js';
import { defineCheck } from '../types.js';

/** States in which NM leaves a device alone: not managed, or configured by someone else and only observed. */
const HANDS_OFF = new Set(['unmanaged', 'connected (externally)', 'connecting (externally)', 'deactivating (externally)']);

/** nmcli's own words when NetworkManager is absent: the shell's "command not found", nmcli's "NetworkManager is not running". */
const NOT_IN_USE = /nmcli: (command )?not found|NetworkManager is not running/;

const CONF = `[keyfile]\\nunmanaged-devices=interface-name:docker0;interface-name:docker_gwbridge;interface-name:br-*;interface-name:veth*;interface-name:vx-*\\n`;

export default defineCheck({
  meta: {
    id: 'host.networkmanager.devices',
    layer: 'host',
    title: "NetworkManager leaves Docker's interfaces alone",
    looksAt:
      "`nmcli -t -f DEVICE,STATE,CONNECTION device` where nmcli exists: Docker's devices (docker0, docker_gwbridge, br-<id>, veth*, vx-*) in any state other than unmanaged or connected (externally) are managed by NetworkManager.",
    remediation:
      "Mark Docker's interfaces unmanaged: a file in /etc/NetworkManager/conf.d/ with `[keyfile]` and `unmanaged-devices=interface-name:docker0;interface-name:docker_gwbridge;interface-name:br-*;interface-name:veth*;interface-name:vx-*`, then `systemctl reload NetworkManager`.",
    scope: 'node',
    failures: [36],
    messages: {
      noNm: '{why}',
      notInUse: "NetworkManager {why} on {node}: nothing manages Docker's interfaces",
      managed:
        'NetworkManager manages {devices} on {node}: it can flush their addresses, start DHCP on them or take them down, and the bridges lose their IP',
      unreadable:
        "nmcli device on {node} printed lines netdoctor could not read ({warnings}): cannot say whether NetworkManager manages Docker's interfaces",
      ok: "NetworkManager leaves Docker's {count} interfaces on {node} alone ({states})",
    },
  },
  check({ node, report }) {
    const nm = node.extra.nm;
    if (!nm.ok) {
      // No nmcli, or NetworkManager not running: nothing manages Docker's interfaces.
      if (!NOT_IN_USE.test(nm.problem)) return report('skip', 'noNm', { why: nm.problem });
      return report('pass', 'notInUse', {
        node: node.name,
        why: nm.problem.includes('not running') ? 'is not running' : 'is not installed (no nmcli)',
      });
    }
    const docker = nm.value.filter((d) => isDockerInterface(d.device));
    const managed = docker.filter((d) => !HANDS_OFF.has(d.state));
    if (managed.length > 0) {
      const devices = listText(managed.map((d) => `${d.device} (${d.state}${d.connection ? `, connection ${d.connection}` : ''})`));
      const remediation = `On ${prose(node.name)}: ${code(`printf '${CONF}' > /etc/NetworkManager/conf.d/90-docker-unmanaged.conf && systemctl reload NetworkManager`)}, then ${code('systemctl restart docker')} if a bridge lost its address.`;
      return report('warn', 'managed', { devices, node: node.name }, { remediation });
    }
    if (nm.warnings.length > 0)
      return report(
        'warn',
        'unreadable',
        { node: node.name, warnings: nm.warnings.slice(0, 2).join('; ') },
        { remediation: `On ${prose(node.name)}: run ${code('nmcli device')} by hand.` },
      );
    const states = [...new Set(docker.map((d) => d.state))].join(', ') || 'none listed';
    report('pass', 'ok', { count: docker.length, node: node.name, states });
  },
});
