/**
 * The framework's half of every check: iterate the check's scope over the
 * model, test its needs, and write every "skipped because …" the same way.
 * Skips carry framework message ids (`skip.<why>`), so reports can group them.
 */
import { hostingNodes } from '../model/topology.js';
import type { Model, NodeModel, SandboxModel } from '../model/types.js';
import type { NetworkFacts } from '../snapshot/types.js';
import type { AnyCheck, Data, FindingDraft, Need, ReportExtra, Status } from './types.js';

export const SKIP = {
  noSwarm: 'skip.no-swarm',
  noProbes: 'skip.no-probes',
  notCollected: 'skip.not-collected',
  noSandboxList: 'skip.no-sandbox-list',
  noIpvs: 'skip.no-ipvs',
  noAddress: 'skip.no-advertise-address',
  noSandbox: 'skip.no-sandbox',
  sandboxNotEntered: 'skip.sandbox-not-entered',
  sectionMissing: 'skip.section-missing',
} as const;

type Skip = Omit<FindingDraft, 'status'> & { status: 'skip' };
const skip = (messageId: string, detail: string, where: Pick<FindingDraft, 'node' | 'network'> = {}): Skip => ({
  status: 'skip',
  messageId,
  detail,
  ...where,
});

const has = (c: AnyCheck, n: Need): boolean => (c.meta.needs ?? []).includes(n);

/** A cluster-level need that is not met, as the one finding of the check. */
export function clusterSkip(c: AnyCheck, m: Model): Skip | null {
  if (has(c, 'swarm') && !m.swarmActive) return skip(SKIP.noSwarm, 'no active swarm (see cluster.swarm.active)');
  if (has(c, 'stack') && m.stack === undefined) return skip('skip.no-stack', 'no stack to check (run it with docker netdoctor gate -c FILE)');
  if (has(c, 'probes') && m.probes === null) return skip(SKIP.noProbes, 'active probes were not run (--no-probe, or a snapshot without probes)');
  return null;
}

/** A node-level need that is not met, as the node's one finding for the check. */
export function nodeSkip(c: AnyCheck, n: NodeModel): Skip | null {
  const at = { node: n.name };
  if (n.notCollected !== null) return skip(SKIP.notCollected, n.notCollected, at);
  const needsSandboxes = has(c, 'sandbox-list') || c.meta.scope === 'network-node';
  if (needsSandboxes && n.sandboxListProblem !== null) return skip(SKIP.noSandboxList, n.sandboxListProblem, at);
  if (has(c, 'advertise-address') && n.addr === null) {
    return skip(SKIP.noAddress, `the swarm reports no advertise address for ${n.name}; cannot tell local from remote endpoints`, at);
  }
  // network-node: per network, once the node's load-balancer sandbox for it is known (sandboxFor).
  if (c.meta.scope !== 'network-node') return ipvsSkip(c, n, at);
  return null;
}

function ipvsSkip(c: AnyCheck, n: NodeModel, at: Pick<FindingDraft, 'node' | 'network'>): Skip | null {
  if (!has(c, 'ipvs') || n.ipvs?.state !== 'unavailable') return null;
  return skip(SKIP.noIpvs, `IPVS is not available on ${n.name}, so docker programs no load balancing there (see service.ingress.ipvs-available)`, at);
}

/**
 * The sandbox a network-node check reads, or the skip that replaces the call; null: nothing to say,
 * 'none': the node has no such sandbox and the check's own noSandbox() says what that means.
 */
export function sandboxFor(c: AnyCheck, n: NodeModel, net: NetworkFacts, hosting: Set<string>): SandboxModel | Skip | 'none' | null {
  const at = { node: n.name, network: net.name };
  const kind = c.meta.sandbox ?? 'overlay';
  const sbs = n.sandboxes.filter((s) => s.kind === kind && s.network?.id === net.id);
  const sb = sbs.find((s) => s.enterError === null) ?? sbs[0];
  if (!sb) {
    if (c.noSandbox) return 'none';
    const see = kind === 'overlay' ? ' (see overlay.sandbox.missing)' : '';
    return hosting.has(n.name) ? skip(SKIP.noSandbox, `no ${kind} sandbox for ${net.name} on ${n.name}${see}`, at) : null;
  }
  const noIpvs = ipvsSkip(c, n, at);
  if (noIpvs) return noIpvs;
  if (sb.enterError !== null) return skip(SKIP.sandboxNotEntered, `sandbox ${sb.name} on ${n.name} could not be entered: ${sb.enterError}`, at);
  for (const need of c.meta.needs ?? []) {
    if (!need.startsWith('section:')) continue;
    const problem = sb.sectionProblem(need.slice('section:'.length));
    // An empty parsed table from a failed command must not read as "no entries".
    if (problem !== null) return skip(SKIP.sectionMissing, problem, at);
  }
  return sb;
}

/** Runs one check over its scope; returns its drafts (framework skips included). */
export function runScoped(c: AnyCheck, m: Model): FindingDraft[] {
  const out: FindingDraft[] = [];
  const at = clusterSkip(c, m);
  if (at) return [at];
  const reporter =
    (where: Pick<FindingDraft, 'node' | 'peer' | 'network'>) =>
    (status: Status, messageId: string, data: Data = {}, extra: ReportExtra = {}) => {
      const { remediation, ...place } = extra;
      out.push({ status, messageId, detail: format(c, messageId, data), ...where, ...place, ...(remediation !== undefined ? { remediation } : {}) });
    };
  if (c.meta.scope !== 'cluster' && c.applies && !c.applies({ model: m, report: reporter({}) })) return out;
  switch (c.meta.scope) {
    case 'cluster':
      c.check({ model: m, report: reporter({}) });
      break;
    case 'node':
      for (const node of m.nodes) {
        const s = nodeSkip(c, node);
        if (s) out.push(s);
        else c.check({ model: m, node, report: reporter({ node: node.name }) });
      }
      break;
    case 'network-node': {
      const nets = m.overlayNetworks.filter((net) => c.appliesTo?.(net, m) ?? true);
      if (nets.length === 0) return [{ status: 'pass', messageId: 'pass.not-applicable', detail: 'no overlay network this check applies to' }];
      const hosting = new Map(nets.map((net) => [net.id, new Set(hostingNodes(m.topology, net).keys())]));
      for (const node of m.nodes) {
        const s = nodeSkip(c, node);
        if (s) {
          out.push(s);
          continue;
        }
        for (const network of nets) {
          const sb = sandboxFor(c, node, network, hosting.get(network.id)!);
          if (sb === null) continue;
          const report = reporter({ node: node.name, network: network.name });
          if (sb === 'none') c.noSandbox!({ model: m, node, network, report });
          else if ('status' in sb) out.push(sb);
          else c.check({ model: m, node, network, sandbox: sb, report });
        }
      }
      break;
    }
    case 'pair':
      for (const node of m.nodes) {
        const s = nodeSkip(c, node);
        if (s) {
          out.push(s);
          continue;
        }
        for (const peer of m.nodes) {
          if (peer === node || nodeSkip(c, peer) !== null) continue;
          c.check({ model: m, node, peer, report: reporter({ node: node.name, peer: peer.name }) });
        }
      }
      break;
  }
  return out;
}

const PLACEHOLDER = /\{(\w+)\}/g;

/** A message template filled in with the report's data; an unknown id or a missing value is a bug in the check. */
export function format(c: AnyCheck, messageId: string, data: Data): string {
  const messages = c.meta.messages as Record<string, string>;
  if (!Object.hasOwn(messages, messageId)) throw new Error(`${c.meta.id} reported unknown message id "${messageId}"`);
  return messages[messageId]!.replace(PLACEHOLDER, (_, key: string) => {
    if (!Object.hasOwn(data, key)) throw new Error(`${c.meta.id}/${messageId}: no value for {${key}}`);
    return String(data[key]);
  });
}
