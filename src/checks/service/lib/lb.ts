/**
 * Helpers the service checks share: the routing-mesh sandbox of a node, the
 * services a node's VIP load balancers serve, and the one remediation they
 * all start with (`docker service update --force`, quoted per service).
 */
import { serviceVip, type PublishedPort } from '../../../model/lb.js';
import type { Model, NodeModel, SandboxModel } from '../../../model/types.js';
import type { NetworkFacts, ServiceFacts } from '../../../snapshot/types.js';
import { listText } from '../../../text/list.js';
import { code, prose, shq } from '../../../text/shell.js';
import type { ClusterContext } from '../../types.js';

export const NO_PORTS = 'no service publishes a port in ingress mode';

export const ingressSandbox = (node: NodeModel): SandboxModel | undefined => node.sandboxes.find((s) => s.kind === 'ingress');

export const lbSandboxes = (node: NodeModel, net: NetworkFacts): SandboxModel[] =>
  node.sandboxes.filter((s) => s.kind === 'lb' && s.network?.id === net.id);

/** `docker service update --force <service>` for each service named (once each), pasteable whatever the names hold. */
export const forceUpdate = (names: readonly string[]): string =>
  [...new Set(names)].map((n) => code(`docker service update --force ${shq(n)}`)).join('; ');

/** The distinct services behind some published ports. */
export const servicesOf = (ports: readonly PublishedPort[]): ServiceFacts[] => [...new Map(ports.map((p) => [p.service.id, p.service])).values()];

/** "8080/tcp (web) is" / "… and 53/udp (dns) are": the subject of a sentence about ports. */
export const portsAre = (ports: readonly PublishedPort[], text: (p: PublishedPort) => string): string =>
  `${listText(ports.map(text))} ${ports.length === 1 ? 'is' : 'are'}`;

/** VIP services whose load balancer lives on this node (an lb_ sandbox of their network is here). */
export function vipUsers(model: Model, node: NodeModel): string[] {
  const out: string[] = [];
  for (const net of model.overlayNetworks) {
    if (net.ingress || lbSandboxes(node, net).length === 0) continue;
    for (const svc of model.cluster.services) {
      const vip = serviceVip(svc, net);
      if (vip) out.push(`${svc.name} on ${prose(net.name)} (VIP ${vip})`);
    }
  }
  return out;
}

/** Services with a VIP on a (non-ingress) overlay network, with that VIP. */
export function vipServices(model: Model, net: NetworkFacts): { svc: ServiceFacts; vip: string }[] {
  if (net.ingress) return [];
  return model.cluster.services.flatMap((svc) => {
    const vip = serviceVip(svc, net);
    return vip ? [{ svc, vip }] : [];
  });
}

/** For a finding that a rule is missing: the dump it read had lines the parser could not place, so the rule may only be unread. */
export const incomplete = (warnings: readonly string[]): string =>
  warnings.length === 0
    ? ''
    : ` (the dump may be incomplete: ${warnings[0]}${warnings.length > 1 ? ` and ${warnings.length - 1} more parser warning(s)` : ''})`;

/** applies() of the routing-mesh checks: one pass for the run when no service publishes a port in ingress mode. */
export function whenPortsPublished({ model, report }: ClusterContext<'noPorts'>): boolean {
  if (model.ingressPorts.length > 0) return true;
  report('pass', 'noPorts');
  return false;
}
