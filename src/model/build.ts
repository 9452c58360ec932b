/**
 * buildModel: the snapshot → model step, once per run. Every raw section a
 * check needs is parsed here, once; checks read only the result.
 */
import type { RawSection } from '../collect/sections.js';
import { parseXfrmPolicy, parseXfrmState, type XfrmState } from '../parse/xfrm.js';
import type { ClusterSnapshot, NetworkFacts, NodeSnapshot, SandboxSnapshot } from '../snapshot/types.js';
import { hostFirewall } from './firewall.js';
import { hostExtras } from './host-extra.js';
import { ingressPorts, nodeIpvs, readIpvs } from './lb.js';
import { notCollectedReason, summaryOf } from './nodes.js';
import { overlayModel } from './overlay.js';
import { readHostLinks, readIpvsTimeout, readNetnsSysctls, readRouteSources } from './netns.js';
import { controlPlaneModel } from './ctlplane.js';
import { readConntrackUdp } from './conntrack.js';
import { logModel, type NodeLog } from './log.js';
import { shq } from '../text/shell.js';
import { execRoot, isDeadNetns, sandboxListProblem, topology } from './topology.js';
import { readDump, readSection, sectionProblem, sectionState } from './sections.js';
import type { StackModel } from './stack.js';
import type { Model, NodeModel, Read, SandboxModel, SectionState } from './types.js';

const readXfrm = (s: RawSection | undefined, what: string): Read<XfrmState[]> =>
  readSection(s, what, (text) => ({ value: parseXfrmState(text), warnings: [] }));

function sandboxModel(node: NodeSnapshot, sb: SandboxSnapshot, network: NetworkFacts | undefined): SandboxModel {
  const sec = (what: string): RawSection | undefined => node.raw[`netns/${sb.name}/${what}`];
  return {
    snap: sb,
    name: sb.name,
    kind: sb.kind,
    network,
    enterError: sb.enterError,
    dead: isDeadNetns(node, sb),
    sectionProblem: (what) => sectionProblem(sec(what), `${what} of ${sb.name} on ${node.name}`),
    ipvs: readIpvs(node, sb),
    mangle: readDump(sec('iptables-mangle'), `iptables-save -t mangle in ${sb.name} on ${node.name}`),
    // Docker's SAs live in the host namespace (host/xfrm-state); bundles made
    // before that was collected hold them per sandbox.
    xfrm:
      node.raw['host/xfrm-state'] !== undefined
        ? readXfrm(node.raw['host/xfrm-state'], `ip xfrm state on ${node.name}`)
        : readXfrm(sec('xfrm-state'), `ip xfrm state in ${sb.name} on ${node.name}`),
    sysctls: readNetnsSysctls(node, sb),
    ipvsTimeout: readIpvsTimeout(node, sb),
  };
}

function nodeModel(snapshot: ClusterSnapshot, n: NodeSnapshot, networkById: Map<string, NetworkFacts>, log: NodeLog | null): NodeModel {
  const summary = summaryOf(snapshot, n);
  const states = new Map<string, SectionState>();
  for (const [name, s] of Object.entries(n.raw)) states.set(name, sectionState(s));
  return {
    name: n.name,
    id: n.id,
    snap: n,
    summary,
    manager: summary?.role === 'manager',
    // An empty address (a hand-made bundle) is no address, as for the topology maps.
    addr: summary?.advertiseAddress || null,
    host: n.host,
    notCollected: n.host === null ? notCollectedReason(n) : null,
    sandboxListProblem: n.host === null ? null : sandboxListProblem(n),
    sandboxes: n.sandboxes.map((sb) => sandboxModel(n, sb, sb.networkId !== null ? networkById.get(sb.networkId) : undefined)),
    ipvs: nodeIpvs(n),
    xfrm: readXfrm(n.raw['host/xfrm-state'], `ip xfrm state on ${n.name}`),
    xfrmPolicy: readSection(n.raw['host/xfrm-policy'], `ip xfrm policy on ${n.name}`, (text) => ({ value: parseXfrmPolicy(text), warnings: [] })),
    firewall: hostFirewall(n),
    log,
    hostLinks: readHostLinks(n),
    routeSources: readRouteSources(n),
    section: (name) => states.get(name),
    unavailable: (name, what) => {
      const s = states.get(name);
      if (!s) return `${what} was not collected`;
      return s.firstError || `${what} exited ${s.rc ?? 'before finishing'}`;
    },
    // The exec root and the sandbox name come from the node: one shell word whatever they hold.
    nsenter: (sandbox) => `nsenter --net=${shq(`${execRoot(n)}/netns/${sandbox}`)}`,
    extra: hostExtras(n),
    conntrackUdp: readConntrackUdp(n),
  };
}

/** The model of a run; a gate run passes the stack it is about. */
export function buildModel(snapshot: ClusterSnapshot, stack?: StackModel): Model {
  const c = snapshot.cluster;
  const t = topology(snapshot);
  const networkById = new Map(c.networks.map((x) => [x.id, x]));
  const networkByName = new Map(c.networks.map((x) => [x.name, x]));
  const logs = logModel({ nodes: snapshot.nodes.filter((n) => n.host !== null), nameByIp: t.nameByIp, networks: c.networks });
  const nodes = snapshot.nodes.map((n) => nodeModel(snapshot, n, networkById, logs.get(n.name) ?? null));
  const nodeByName = new Map(nodes.map((n) => [n.name, n]));
  return {
    snapshot,
    cluster: c,
    swarmActive: c.swarmId !== null,
    nodes,
    node: (name) => nodeByName.get(name),
    nodeFor: (s) => nodes.find((n) => n.id !== null && n.id === s.id) ?? nodeByName.get(s.name),
    nameByIp: t.nameByIp,
    ipByName: t.ipByName,
    nameById: t.nameById,
    networks: c.networks,
    overlayNetworks: c.networks.filter((x) => x.driver === 'overlay'),
    ingress: c.networks.find((x) => x.ingress),
    ingressPorts: ingressPorts(snapshot),
    network: (key) => networkById.get(key) ?? networkByName.get(key),
    probes: snapshot.probes ?? null,
    topology: t,
    overlay: overlayModel(t, (name) => nodeByName.get(name)),
    controlPlane: controlPlaneModel(snapshot, (key) => (networkById.get(key) ?? networkByName.get(key))?.name ?? key),
    ...(stack ? { stack } : {}),
  };
}
