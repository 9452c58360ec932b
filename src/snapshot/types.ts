/**
 * The snapshot: everything netdoctor knows about a cluster at one moment,
 * typed and JSON-serialisable. Collection produces it; checks read only it;
 * the support bundle is it on disk. Bump SNAPSHOT_SCHEMA_VERSION on any
 * incompatible change (readers refuse newer versions).
 */
import type { NodeSummary } from '../cluster/nodes.js';
import type { RawSection } from '../collect/sections.js';
import type { ProbeResults } from '../probe/types.js';

export const SNAPSHOT_SCHEMA_VERSION = 1;

export interface ClusterSnapshot {
  schemaVersion: typeof SNAPSHOT_SCHEMA_VERSION;
  tool: { name: 'docker-netdoctor'; version: string };
  startedAt: string;
  durationMs: number;
  /** The docker endpoint the cluster facts came from (a manager). */
  endpoint: { host: string; context: string };
  cluster: ClusterFacts;
  nodes: NodeSnapshot[];
  /** Active probe results when probes ran (check without --no-probe). */
  probes?: ProbeResults;
}

export interface ClusterFacts {
  swarmId: string | null;
  /** Hostname of the manager we asked. */
  managerNode: string | null;
  /** The data-path (VXLAN) UDP port: 4789 unless set with --data-path-port. */
  dataPathPort: number;
  defaultAddrPool: string[];
  subnetSize: number | null;
  nodes: NodeSummary[];
  networks: NetworkFacts[];
  services: ServiceFacts[];
  /**
   * Every network the manager lists (GET /networks): its local bridges,
   * macvlans and the like as well as the swarm networks of every driver,
   * where `networks` holds the swarm overlays only. Absent in snapshots
   * written before it was collected.
   */
  networkList?: NetworkListEntry[];
  /** Raw Engine API answers, kept for the bundle and for checks we add later. */
  raw: {
    info: unknown;
    swarm: unknown;
    nodes: unknown;
    networks: unknown;
    services: unknown;
    tasks: unknown;
    /** GET /networks, each entry cut to Id, Name, Driver, Scope and ConfigFrom (the rest is in `networks` for overlays). */
    networkList?: unknown;
  };
}

/** One network of GET /networks on the manager, of any driver and scope. */
export interface NetworkListEntry {
  id: string;
  name: string;
  driver: string;
  /** "local", "swarm" or "global" (docker network ls's SCOPE). */
  scope: string;
  /** The config-only network it was created from (`--config-from`), when it was. */
  configFrom?: string;
}

export interface NetworkFacts {
  id: string;
  name: string;
  driver: string;
  scope: string;
  ingress: boolean;
  internal: boolean;
  attachable: boolean;
  encrypted: boolean;
  subnets: { subnet: string; gateway: string | null }[];
  /** VXLAN ids from com.docker.network.driver.overlay.vxlanid_list. */
  vnis: number[];
  /** com.docker.network.driver.mtu when set. */
  mtu: number | null;
  /** From `docker network inspect --verbose` on the manager: nodes with tasks on the network. */
  peers: { name: string; ip: string }[];
  /** Ground truth: every task endpoint on this network and the node IP hosting it. */
  endpoints: NetworkEndpoint[];
  /** Virtual IPs by service name. */
  serviceVips: Record<string, string>;
}

export interface NetworkEndpoint {
  service: string;
  task: string;
  /** Address without prefix. */
  ip: string;
  /** Underlay address of the node running the task (Info["Host IP"]). */
  hostIp: string;
  /** Load-balancer endpoints (lb-<network>) have no task. */
  kind: 'task' | 'lb';
}

export interface ServiceFacts {
  id: string;
  name: string;
  mode: 'replicated' | 'global' | 'other';
  replicas: number | null;
  networks: string[];
  ports: { protocol: string; targetPort: number; publishedPort: number | null; publishMode: string }[];
  endpointMode: 'vip' | 'dnsrr';
  vips: { networkId: string; addr: string }[];
  runningTasks: { id: string; slot: number | null; nodeId: string; addresses: { networkId: string; addr: string }[] }[];
}

/** How a node's collection went. */
export type NodeStatus = 'ok' | 'partial' | 'unreachable' | 'error';

/** Where a node's collection failed; the texts and advice for each live in src/checks/host/lib/ssh-advice.ts. */
export const COLLECTION_STAGES = ['connect', 'timeout', 'auth', 'hostkey', 'sudo', 'exec', 'parse'] as const;
export type CollectionStage = (typeof COLLECTION_STAGES)[number];

export interface CollectionError {
  /** A snapshot read from a bundle may hold any string here: readers go through `stageOf`-style own-key lookups. */
  stage: CollectionStage;
  kind: string;
  message: string;
}

export interface NodeSnapshot {
  /** Swarm hostname (Description.Hostname). */
  name: string;
  id: string | null;
  target: { host: string; port: number; user: string; via: string[] };
  status: NodeStatus;
  errors: CollectionError[];
  timings: { connectMs: number | null; execMs: number | null; totalMs: number; nodeCpuMs?: number | null };
  /** Every section exactly as collected, by name (host/…, netns/<sandbox>/…). */
  raw: Record<string, RawSection>;
  /** Parsed views; null when the node could not be collected. */
  host: HostFacts | null;
  sandboxes: SandboxSnapshot[];
  /** How docker's network namespaces were entered. */
  sandboxAccess: 'direct' | 'dockerd-mount-ns' | 'none';
}

export interface Unavailable {
  unavailable: true;
  reason: string;
}

/** Where a node's dockerd binary came from. */
export interface DockerPackage {
  /** The dockerd binary (the running one's /proc/PID/exe, else the one on PATH). */
  exe: string | null;
  /** The package manager that owns it; null when none does (a static binary, an unpacked tree). */
  manager: 'dpkg' | 'rpm' | 'snap' | null;
  /** The package (docker.io, docker-ce, moby-engine, docker…); null when none owns the binary. */
  name: string | null;
}

export interface HostFacts {
  hostname: string | null;
  kernel: string | null;
  os: string | null;
  uid: number | null;
  dockerVersion: string | null;
  /** The package dockerd came from (section host/docker-package); absent in snapshots made before it was collected. */
  dockerPackage?: DockerPackage | null;
  containerdVersion: string | null;
  dockerd: {
    running: boolean;
    pid: number | null;
    cmdline: string | null;
    /** dockerd's mount namespace differs from the SSH session's. */
    separateMountNs: boolean | null;
    execRoot: string;
  };
  /** MountFlags of docker.service (systemd), or from unit files; null when unknown. */
  mountFlags: string | null;
  mountFlagsSource: 'systemctl' | 'unit-file' | 'none';
  modules: Record<string, boolean>;
  sysctls: Record<string, string | null>;
  iptables: {
    version: string | null;
    /** The backend `iptables` itself uses. */
    defaultBackend: 'nft' | 'legacy' | 'unknown';
    /** Docker chains found per backend. */
    dockerRulesIn: ('legacy' | 'nft')[];
  };
  interfaces: HostInterface[];
  routes: { dst: string; dev: string | null; gateway: string | null; protocol: string | null }[];
  listening: { proto: string; address: string; port: number; process: string | null }[] | Unavailable;
  offload: Record<string, { driver: string | null; features: Record<string, string> }> | Unavailable;
  /** Node clock at the start of collection, seconds since epoch, and our local clock when the script started. */
  clock: { node: number; localReceived: number } | null;
}

export interface HostInterface {
  name: string;
  kind: string | null;
  mtu: number | null;
  state: string | null;
  addresses: { family: 'inet' | 'inet6'; address: string; prefixLen: number }[];
}

export type SandboxKind = 'overlay' | 'lb' | 'ingress' | 'container' | 'other';

export interface SandboxSnapshot {
  name: string;
  kind: SandboxKind;
  /** For overlay (1-<prefix>) and lb (lb_<prefix>) sandboxes: the network id prefix, and the network when it maps. */
  networkIdPrefix: string | null;
  networkId: string | null;
  networkName: string | null;
  /** Could not be entered (stale file, mount namespace). */
  enterError: string | null;
  links: SandboxLink[];
  addresses: { ifname: string; address: string; prefixLen: number }[];
  fdb: FdbEntry[];
  neighbours: NeighEntry[];
}

export interface SandboxLink {
  name: string;
  kind: string | null;
  mtu: number | null;
  state: string | null;
  master: string | null;
  mac: string | null;
  vxlan?: { id: number | null; port: number | null; local: string | null; learning: boolean | null };
}

export interface FdbEntry {
  mac: string;
  dev: string;
  dst: string | null;
  vlan: number | null;
  flags: string[];
  state: string | null;
}

export interface NeighEntry {
  dst: string;
  dev: string;
  mac: string | null;
  state: string[];
}
