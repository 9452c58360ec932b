/**
 * The per-run model: built once from the snapshot (build.ts), read by every
 * check. It holds the snapshot's typed facts plus everything derived from
 * the nodes' raw sections, parsed once: section states, firewall dumps with
 * their parser warnings, IPVS tables, sandbox mangle rules and xfrm states,
 * topology maps, probe results. Nothing after the model reads `raw`.
 */
import type { NodeSummary } from '../cluster/nodes.js';
import type { IptablesDump } from '../parse/iptables.js';
import type { XfrmPolicy, XfrmState } from '../parse/xfrm.js';
import type { ProbeResults } from '../probe/types.js';
import type { ClusterFacts, ClusterSnapshot, HostFacts, NetworkFacts, NodeSnapshot, SandboxLink, SandboxSnapshot } from '../snapshot/types.js';
import type { IpvsRead, PublishedPort } from './lb.js';
import type { IpvsTimeoutRead } from './netns.js';
import type { RouteGet } from '../parse/sandbox.js';
import type { StackModel } from './stack.js';
import type { OverlayModel } from './overlay.js';
import type { NodeLog } from './log.js';
import type { Topology } from './topology.js';
import type { HostExtras } from './host-extra.js';
import type { ControlPlaneModel } from './ctlplane.js';
import type { ConntrackEntry } from '../parse/conntrack.js';

/** Something parsed from a section, or why it could not be. */
export type Read<T> = { ok: true; value: T; warnings: string[] } | { ok: false; problem: string };

/** How one collected section went, without its text. */
export interface SectionState {
  ok: boolean;
  rc: number | null;
  /** First non-empty stderr line, or '' */
  firstError: string;
  truncated: boolean;
}

export interface HostDump {
  /** The section it came from: host/iptables-save, host/iptables-nft-save, host/iptables-legacy-save. */
  section: string;
  /** For findings: `iptables-save (nft)`, `iptables-legacy-save`. */
  label: string;
  dump: IptablesDump;
}

export interface NodeFirewall {
  /**
   * The dumps that decide filtering: the default backend's `iptables-save`,
   * plus the other backend's when it holds filter rules too (the kernel runs both).
   * Its `warnings` are those of these dumps only: with any, an "accepted" is not a pass.
   */
  filter: Read<HostDump[]>;
  /** Every host dump that could be read (for nat rules, which either backend may hold). */
  all: HostDump[];
  /** Why the main `iptables-save` could not be read (empty when it was). */
  problems: string[];
  /** Parser warnings of every dump read (a truncated dump must not read as "accepted"). */
  warnings: string[];
}

export interface SandboxModel {
  snap: SandboxSnapshot;
  name: string;
  kind: SandboxSnapshot['kind'];
  /** The swarm network of an overlay/lb sandbox, when it maps. */
  network: NetworkFacts | undefined;
  enterError: string | null;
  /** A netns file whose namespace is gone (EINVAL while the node's other sandboxes can be entered). */
  dead: boolean;
  /** Why section `netns/<name>/<what>` cannot be used (not collected, failed), or null. */
  sectionProblem(what: string): string | null;
  /** IPVS table (lb_ and ingress sandboxes; 'unreadable' elsewhere). */
  ipvs: IpvsRead;
  /** `iptables-save -t mangle` inside the sandbox. */
  mangle: Read<IptablesDump>;
  /**
   * The SAs that carry this sandbox's VXLAN: `ip xfrm state` of the host
   * namespace (where libnetwork programs them), or the sandbox's own section in
   * older bundles. Read only when the swarm has encrypted overlays.
   */
  xfrm: Read<XfrmState[]>;
  /** The namespace's own sysctls (lb_ and ingress sandboxes): key → value, null when the key is absent. */
  sysctls: Read<Map<string, string | null>>;
  /** `ipvsadm -L --timeout` (lb_ and ingress sandboxes). */
  ipvsTimeout: IpvsTimeoutRead;
}

export interface NodeModel {
  name: string;
  id: string | null;
  snap: NodeSnapshot;
  /** The swarm's view of the node (role, state, advertise address), by id then name. */
  summary: NodeSummary | undefined;
  manager: boolean;
  /** Advertise (underlay) address, when the swarm reports one. */
  addr: string | null;
  host: HostFacts | null;
  /** Why the node could not be collected; null when it was. */
  notCollected: string | null;
  /** Why docker's network namespaces could not be listed; null when the list is usable (possibly empty). */
  sandboxListProblem: string | null;
  sandboxes: SandboxModel[];
  /** Whether IPVS works on the node (ingress_sbox first, else any lb_ sandbox); null without such sandboxes. */
  ipvs: IpvsRead | null;
  /** `ip xfrm state` of the host namespace, where libnetwork programs its SAs (only with encrypted overlays). */
  xfrm: Read<XfrmState[]>;
  /** `ip xfrm policy` of the host namespace (collected only when the swarm has encrypted overlays). */
  xfrmPolicy: Read<XfrmPolicy[]>;
  firewall: NodeFirewall;
  /** dockerd's and the kernel's log lines matched against the signature catalogue (log.ts); null when not collected. */
  log: NodeLog | null;
  /** State of a host section (`host/modules` …); undefined when it was not collected. */
  section(name: string): SectionState | undefined;
  /** Why host section `name` is unusable, in the words of the node's own error (`what` names it when there are none). */
  unavailable(name: string, what: string): string;
  /** The host namespace's links with vxlan details (`ip -d link`). */
  hostLinks: Read<SandboxLink[]>;
  /** The kernel's route toward each underlay peer (`ip route get`): its prefsrc is the VXLAN outer source without `local`. */
  routeSources: Read<RouteGet[]>;
  /** The command prefix that runs a command inside a docker sandbox on this node. */
  nsenter(sandbox: string): string;
  /** Neighbour table, resolv.conf nameservers, NetworkManager devices, docker info's daemon mode (host-extra.ts). */
  extra: HostExtras;
  /** The host namespace's UDP conntrack entries on published UDP ports (section host/conntrack-udp; conntrack.ts). */
  conntrackUdp: Read<ConntrackEntry[]>;
}

export type CollectedNodeModel = NodeModel & { host: HostFacts };

export interface Model {
  snapshot: ClusterSnapshot;
  cluster: ClusterFacts;
  swarmActive: boolean;
  /** Every node of the run, collected or not, in snapshot order. */
  nodes: NodeModel[];
  node(name: string): NodeModel | undefined;
  /** The collected (or attempted) node of a swarm node, by id then name; undefined when this run did not try it. */
  nodeFor(s: Pick<NodeSummary, 'id' | 'name'>): NodeModel | undefined;
  /** Advertise address → swarm node name, and back; swarm node id → name. */
  nameByIp: Map<string, string>;
  ipByName: Map<string, string>;
  nameById: Map<string, string>;
  networks: NetworkFacts[];
  overlayNetworks: NetworkFacts[];
  ingress: NetworkFacts | undefined;
  /** Ports services publish through the routing mesh (publish mode ingress). */
  ingressPorts: PublishedPort[];
  network(idOrName: string): NetworkFacts | undefined;
  probes: ProbeResults | null;
  /** Lookup maps shared with the topology helpers (topology.ts). */
  topology: Topology;
  /** The stack of a gate run (stack.ts); absent for check, collect and bundles. */
  stack?: StackModel;
  /** Overlay network members and each (node, network) sandbox's FDB/neighbour analysis, computed once (overlay.ts). */
  overlay: OverlayModel;
  /** Each node's own NetworkDB view, the manager's, and tasks stuck before a node took them (ctlplane.ts). */
  controlPlane: ControlPlaneModel;
}
