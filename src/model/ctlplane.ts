/**
 * Control-plane facts, parsed once per run: each node's own NetworkDB view
 * of its swarm overlays (section `host/network-views`: `docker network
 * inspect --verbose` run on the node), the manager's view in the same
 * shape, and the tasks the swarm wants running that are stuck before a node
 * took them (NEW/ALLOCATED/PENDING) with docker's own error text.
 */
import type { NodeSnapshot, NetworkFacts, ClusterSnapshot } from '../snapshot/types.js';
import { readSection } from './sections.js';
import type { Read } from './types.js';

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-member-access --
   Engine API JSON as the daemon prints it, read defensively field by field. */
type J = Record<string, any>;

/** One endpoint in a view: a task, or a node's load-balancer endpoint (`<network>-endpoint`). */
export interface ViewEndpoint {
  /** Container name of a task (`web.1.<task id>`), or the lb endpoint's name. */
  name: string;
  /** Task id (the last dot-separated part of a task's name); null for lb endpoints. */
  taskId: string | null;
  ip: string;
  hostIp: string;
  lb: boolean;
}

export interface ViewService {
  name: string;
  /** Virtual IP without prefix; null for dnsrr services and the lb pseudo-service. */
  vip: string | null;
  endpoints: ViewEndpoint[];
}

/** What one node (or the manager) knows of one overlay network. */
export interface NetworkView {
  id: string;
  name: string;
  peers: { name: string; ip: string }[];
  services: ViewService[];
}

export interface PendingTask {
  id: string;
  serviceId: string;
  service: string;
  slot: number | null;
  state: string;
  /** Status.Err (docker's reason, e.g. `no suitable node …`), or ''. */
  err: string;
  /** Status.Message (`pending task scheduling`, `created` …), or ''. */
  message: string;
  /** Seconds between the task's last status change and the snapshot; null when either time is unreadable. */
  ageSec: number | null;
  /** Networks the task asks for, by name (ids when unknown). */
  networks: string[];
  /** Network ids the task asks for. */
  networkIds: string[];
}

/** One name asked of a sandbox's embedded DNS (collect script: DNS_RESOLVER). */
export interface DnsAnswer {
  name: string;
  /** `answer`: the resolver replied (rcode 0 with addresses, or an error rcode); `timeout`: no reply in time; `skipped`: the resolver answered nothing before. */
  outcome: 'answer' | 'timeout' | 'skipped' | 'error';
  /** DNS rcode of a reply (0 NOERROR, 3 NXDOMAIN …); null without one. */
  rcode: number | null;
  ips: string[];
}

/** What a node's load-balancer sandbox of one network answered. */
export interface SandboxDns {
  network: NetworkFacts;
  sandbox: string;
  answers: Read<DnsAnswer[]>;
}

/** A task the manager's dockerd could not give an address (its log line `failed to allocate network IP for task <id> network <id>: <error>`). */
export interface AllocationFailure {
  taskId: string;
  networkId: string;
  error: string;
  node: string;
}

/**
 * Swarmkit's task states in order (api/types.proto TaskState; `allocated` is
 * the Engine API's name of an older state between new and pending).
 */
const TASK_STATES = ['new', 'allocated', 'pending', 'assigned', 'accepted', 'preparing', 'ready', 'starting', 'running'];

/**
 * Whether a task in `state` keeps its network addresses. Swarmkit's
 * allocator (manager/allocator/network.go, doTaskAlloc and allocateTasks)
 * frees a task's addresses as soon as its state is past `running`, whatever
 * its desired state, and keeps them until then: a task being shut down that
 * still runs holds its address as much as one still starting.
 */
export const holdsAddresses = (state: string): boolean => TASK_STATES.includes(state);

/** One task of the manager's list, as the checks need it. */
export interface TaskRecord {
  id: string;
  serviceId: string;
  nodeId: string;
  slot: number | null;
  state: string;
  desired: string;
  /** Status.Timestamp in ms since the epoch (the clock of the node that reported it); null when unreadable. */
  changedAt: number | null;
  /** NetworksAttachments addresses (with prefix), by network id: what the allocator gave the task. */
  addresses: { networkId: string; addr: string }[];
}

/** One service's change state. */
export interface ServiceRecord {
  id: string;
  name: string;
  /** A rolling update (or its rollback) in progress: UpdateStatus.State updating / rollback_started. */
  updating: boolean;
  /** The latest of CreatedAt and UpdatedAt (ms since the epoch); null when unreadable. */
  changedAt: number | null;
  /** CreatedAt (ms since the epoch); null when unreadable. */
  createdAt: number | null;
}

export interface ControlPlaneModel {
  /** Every task of the manager's list (bounded), in any state. */
  tasks: TaskRecord[];
  /** Services by id. */
  services: Map<string, ServiceRecord>;
  /** The manager's clock when it answered (`docker info` SystemTime), ms since the epoch; null when unreadable. */
  answeredAt: number | null;
  /** The node's own view by network id, or why it cannot be read. */
  views(node: string): Read<Map<string, NetworkView>>;
  /** The manager's view of a network (from the Engine API's verbose inspect). */
  managerView(network: NetworkFacts): NetworkView | null;
  /** Tasks with desired state running still in new/allocated/pending. */
  pendingTasks: PendingTask[];
  /** Embedded-DNS answers in each load-balancer sandbox of the node that was asked. */
  dns(node: string): SandboxDns[];
  /** Address allocation failures in the managers' dockerd logs, by task id (the last one per task). */
  allocationFailures: Map<string, AllocationFailure>;
}

/** Limits on what one view holds, whatever a node prints. */
const MAX_ENTRIES = 10_000;

const noPrefix = (v: unknown): string => (typeof v === 'string' ? v.split('/')[0]! : '');
const isAddr = (v: string): boolean => /^[0-9a-f.:]{2,45}$/i.test(v);

/** One network's `Peers` and `Services` (the Engine API's verbose inspect JSON) as a view. */
export function parseView(j: J): NetworkView {
  const peers = (Array.isArray(j.Peers) ? (j.Peers as J[]) : [])
    .slice(0, MAX_ENTRIES)
    .map((p) => ({ name: String(p?.Name ?? ''), ip: String(p?.IP ?? '') }));
  const services: ViewService[] = [];
  const raw = j.Services !== null && typeof j.Services === 'object' ? (j.Services as Record<string, J>) : {};
  for (const [name, s] of Object.entries(raw).slice(0, MAX_ENTRIES)) {
    const vip = noPrefix(s?.VIP);
    const endpoints = (Array.isArray(s?.Tasks) ? (s.Tasks as J[]) : []).slice(0, MAX_ENTRIES).map((t) => {
      const taskName = String(t?.Name ?? '');
      const lb = name === '' || taskName.endsWith('-endpoint');
      const last = taskName.split('.');
      return {
        name: taskName,
        taskId: !lb && last.length >= 3 ? last[last.length - 1]! : null,
        ip: noPrefix(t?.EndpointIP),
        hostIp: String(t?.Info?.['Host IP'] ?? ''),
        lb,
      };
    });
    services.push({ name, vip: name !== '' && isAddr(vip) ? vip : null, endpoints });
  }
  return { id: String(j.Id ?? ''), name: String(j.Name ?? ''), peers, services };
}

/** `host/network-views`: one JSON object a line; a line that is not one is a warning. */
export function parseViews(text: string): { value: Map<string, NetworkView>; warnings: string[] } {
  const value = new Map<string, NetworkView>();
  const warnings: string[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const v = parseView(JSON.parse(line) as J);
      if (v.id !== '') value.set(v.id, v);
    } catch {
      warnings.push(`unreadable line: ${line.slice(0, 80)}`);
    }
  }
  return { value, warnings };
}

/** `netns/lb_<prefix>/dns`: `NAME rcode=N IP…` | `NAME timeout` | `NAME skipped` | `NAME error`. */
export function parseDnsAnswers(text: string): { value: DnsAnswer[]; warnings: string[] } {
  const value: DnsAnswer[] = [];
  const warnings: string[] = [];
  for (const line of text.split('\n').slice(0, MAX_ENTRIES)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 2 || f[0] === '') continue;
    const [name, what, ...rest] = f as [string, string, ...string[]];
    const rc = /^rcode=([0-9]{1,2})$/.exec(what);
    if (rc) value.push({ name, outcome: 'answer', rcode: Number(rc[1]), ips: rest.filter(isAddr) });
    else if (what === 'timeout' || what === 'skipped' || what === 'error') value.push({ name, outcome: what, rcode: null, ips: [] });
    else warnings.push(`unreadable line: ${line.slice(0, 80)}`);
  }
  return { value, warnings };
}

const ALLOC = 'failed to allocate network IP for task ';

/** Allocation failures named in one manager's dockerd log (linear: indexOf per line, bounded lines). */
export function allocationFailures(text: string, node: string, into: Map<string, AllocationFailure>): void {
  for (const line of text.split('\n').slice(-20_000)) {
    const i = line.indexOf(ALLOC);
    if (i < 0) continue;
    const rest = line.slice(i + ALLOC.length, i + ALLOC.length + 400);
    const m = /^([0-9a-z]{1,64}) network ([0-9a-z]{1,64}): ([^"]{1,200})/.exec(rest);
    if (m) into.set(m[1]!, { taskId: m[1]!, networkId: m[2]!, error: m[3]!.trim(), node });
  }
}

const STUCK = new Set(['new', 'allocated', 'pending']);

export function pendingTasks(snapshot: ClusterSnapshot, networkName: (idOrName: string) => string): PendingTask[] {
  const c = snapshot.cluster;
  const tasks = Array.isArray(c.raw.tasks) ? (c.raw.tasks as J[]) : [];
  const serviceName = new Map(c.services.map((s) => [s.id, s]));
  const at = Date.parse(snapshot.startedAt);
  return tasks
    .filter((t) => t?.DesiredState === 'running' && STUCK.has(String(t?.Status?.State)))
    .slice(0, MAX_ENTRIES)
    .map((t) => {
      const svc = serviceName.get(String(t.ServiceID));
      const since = Date.parse(String(t.Status?.Timestamp ?? ''));
      const wanted = ((t.Spec?.Networks ?? []) as J[]).map((n) => String(n?.Target ?? ''));
      const nets = wanted.length ? wanted : (svc?.networks ?? []);
      return {
        id: String(t.ID ?? ''),
        serviceId: String(t.ServiceID ?? ''),
        service: svc?.name ?? String(t.ServiceID ?? ''),
        slot: typeof t.Slot === 'number' ? t.Slot : null,
        state: String(t.Status.State),
        err: String(t.Status?.Err ?? ''),
        message: String(t.Status?.Message ?? ''),
        ageSec: Number.isNaN(since) || Number.isNaN(at) ? null : Math.round((at - since) / 1000),
        networks: nets.filter((n) => n !== '').map(networkName),
        networkIds: nets.filter((n) => n !== ''),
      };
    });
}

const ms = (v: unknown): number | null => {
  const t = typeof v === 'string' ? Date.parse(v) : Number.NaN;
  return Number.isNaN(t) ? null : t;
};

export function taskRecords(raw: unknown): TaskRecord[] {
  return (Array.isArray(raw) ? (raw as J[]) : []).slice(0, MAX_ENTRIES).map((t) => ({
    id: String(t?.ID ?? ''),
    serviceId: String(t?.ServiceID ?? ''),
    nodeId: String(t?.NodeID ?? ''),
    slot: typeof t?.Slot === 'number' ? t.Slot : null,
    state: String(t?.Status?.State ?? ''),
    desired: String(t?.DesiredState ?? ''),
    changedAt: ms(t?.Status?.Timestamp),
    addresses: (Array.isArray(t?.NetworksAttachments) ? (t.NetworksAttachments as J[]) : []).flatMap((a) =>
      (Array.isArray(a?.Addresses) ? (a.Addresses as unknown[]) : []).map((addr) => ({
        networkId: String(a?.Network?.ID ?? ''),
        addr: String(addr),
      })),
    ),
  }));
}

const UPDATING = new Set(['updating', 'rollback_started']);

export function serviceRecords(raw: unknown): Map<string, ServiceRecord> {
  const out = new Map<string, ServiceRecord>();
  for (const s of (Array.isArray(raw) ? (raw as J[]) : []).slice(0, MAX_ENTRIES)) {
    const createdAt = ms(s?.CreatedAt);
    const times = [createdAt, ms(s?.UpdatedAt)].filter((t): t is number => t !== null);
    const id = String(s?.ID ?? '');
    out.set(id, {
      id,
      name: String(s?.Spec?.Name ?? id),
      updating: UPDATING.has(String(s?.UpdateStatus?.State ?? '')),
      changedAt: times.length ? Math.max(...times) : null,
      createdAt,
    });
  }
  return out;
}

export function controlPlaneModel(snapshot: ClusterSnapshot, networkName: (idOrName: string) => string): ControlPlaneModel {
  const byNode = new Map<string, NodeSnapshot>(snapshot.nodes.map((n) => [n.name, n]));
  const cache = new Map<string, Read<Map<string, NetworkView>>>();
  const rawNets = Array.isArray(snapshot.cluster.raw.networks) ? (snapshot.cluster.raw.networks as J[]) : [];
  const managerViews = new Map<string, NetworkView>();
  for (const j of rawNets) if (j && typeof j.Id === 'string') managerViews.set(j.Id, parseView(j));
  return {
    tasks: taskRecords(snapshot.cluster.raw.tasks),
    services: serviceRecords(snapshot.cluster.raw.services),
    answeredAt: ms((snapshot.cluster.raw.info as J | null)?.SystemTime),
    views(node) {
      let r = cache.get(node);
      if (!r) {
        const n = byNode.get(node);
        r = readSection(n?.raw['host/network-views'], `docker network inspect --verbose on ${node}`, parseViews);
        cache.set(node, r);
      }
      return r;
    },
    managerView: (network) => managerViews.get(network.id) ?? null,
    pendingTasks: pendingTasks(snapshot, networkName),
    dns: (node) => dnsOf(byNode.get(node), snapshot.cluster.networks),
    allocationFailures: managerAllocationFailures(snapshot),
  };
}

function dnsOf(n: NodeSnapshot | undefined, networks: NetworkFacts[]): SandboxDns[] {
  if (!n) return [];
  const out: SandboxDns[] = [];
  for (const sb of n.sandboxes) {
    const network = sb.kind === 'lb' ? networks.find((x) => x.id === sb.networkId) : undefined;
    const sec = n.raw[`netns/${sb.name}/dns`];
    if (!network || !sec) continue;
    out.push({ network, sandbox: sb.name, answers: readSection(sec, `the embedded DNS in ${sb.name} on ${n.name}`, parseDnsAnswers) });
  }
  return out;
}

function managerAllocationFailures(snapshot: ClusterSnapshot): Map<string, AllocationFailure> {
  const out = new Map<string, AllocationFailure>();
  const managers = new Set(snapshot.cluster.nodes.filter((x) => x.role === 'manager').map((x) => x.name));
  for (const n of snapshot.nodes) {
    const log = n.raw['host/docker-log'];
    if (managers.has(n.name) && log) allocationFailures(log.stdout, n.name, out);
  }
  return out;
}
