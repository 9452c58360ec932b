import type { NodeModel } from '../../model/types.js';
import { defineCheck } from '../types.js';
import { code, prose } from '../../text/shell.js';

/** What a private mount namespace breaks, by how netdoctor could reach the sandboxes. */
function consequence(node: NodeModel): string {
  const d = node.host!.dockerd;
  switch (node.snap.sandboxAccess) {
    case 'dockerd-mount-ns':
      return `the network namespace files under ${d.execRoot}/netns are not visible from the host: \`nsenter --net=…\` and \`ip netns\` fail there, and netdoctor read the sandboxes through dockerd's mount namespace (nsenter -t ${d.pid ?? '<pid>'} -m)`;
    case 'none':
      return `the network namespaces under ${d.execRoot}/netns could not be entered from the host`;
    default:
      return 'namespace mounts made by dockerd do not propagate back to the host (stale netns files, "device or resource busy" when removing containers)';
  }
}

const SOURCE: Record<string, string> = { systemctl: ' (from systemctl show docker)', 'unit-file': ' (from the unit files)' };

export default defineCheck({
  meta: {
    id: 'host.mountns.separate',
    layer: 'host',
    title: 'dockerd shares the host mount namespace',
    looksAt: "MountFlags of docker.service (systemctl or unit files and drop-ins) and whether /proc/<dockerd>/ns/mnt differs from the SSH session's.",
    remediation: 'Remove MountFlags=slave from the docker.service unit or drop-in, then `systemctl daemon-reload && systemctl restart docker`.',
    scope: 'node',
    failures: [],
    messages: {
      shared: 'dockerd runs in the host mount namespace{flags}',
      dockerdStopped: 'dockerd is not running (see host.dockerd.running)',
      unknown: "could not compare dockerd's mount namespace with the host's: {why}",
      separate: '{what}: {consequence}.',
    },
  },
  check({ node, report }) {
    const h = node.host!;
    const flags = h.mountFlags;
    const sep = h.dockerd.separateMountNs;
    const flagged = flags === 'slave' || flags === 'private';
    if (!flagged && sep !== true) {
      if (sep === false) report('pass', 'shared', { flags: flags ? ` (MountFlags=${flags})` : '' });
      else if (!h.dockerd.running) report('skip', 'dockerdStopped');
      else report('skip', 'unknown', { why: node.unavailable('host/mountns', 'host/mountns') });
      return;
    }
    const source = Object.hasOwn(SOURCE, h.mountFlagsSource) ? SOURCE[h.mountFlagsSource]! : '';
    const what = [
      ...(flagged ? [`docker.service has MountFlags=${flags}${source}`] : []),
      ...(sep === true ? [`dockerd (pid ${h.dockerd.pid ?? '?'}) runs in a mount namespace of its own`] : []),
    ].join('; ');
    report(
      'warn',
      'separate',
      { what, consequence: consequence(node) },
      {
        remediation: flagged
          ? `On ${prose(node.name)}: find the MountFlags line (\`systemctl cat docker${code(`), remove MountFlags=${flags} from docker.service or its drop-in under /etc/systemd/system/docker.service.d/, then `)}systemctl daemon-reload && systemctl restart docker\`.`
          : `On ${prose(node.name)}: dockerd was started in a private mount namespace (snap package, a wrapper running \`unshare -m\`, or dockerd in a container); run dockerd from the host's mount namespace (docker.service without MountFlags), then restart it.`,
      },
    );
  },
});
