/**
 * What was changing while the nodes were read (overlay.networkdb.views).
 * The views are read one node after the other, and gossip takes a moment to
 * carry a change, so during a scale-up, a rollout or a restart the nodes
 * legitimately differ for a few seconds. Decided from the snapshot alone:
 * the manager's task list (states, desired states, Status.Timestamp), the
 * services' UpdateStatus and change times, and when each node was read.
 */
import { holdsAddresses, type ServiceRecord, type TaskRecord } from '../../../model/ctlplane.js';
import type { Model } from '../../../model/types.js';
import type { NetworkFacts } from '../../../snapshot/types.js';
import type { Fact } from './views.js';

/** Seconds a change may take to reach every node's NetworkDB view; a task settled longer than this before the collection must be everywhere. */
export const SETTLE_SEC = 10;
/** Node clocks further than this from the manager's are not used as collection times. */
const MAX_SKEW_SEC = 120;

/**
 * The earliest moment of the collection (ms): the manager's clock when it
 * answered (`docker info` SystemTime) and each node's clock when its script
 * started; the snapshot's start when neither is known.
 */
export function collectionStart(model: Model): number | null {
  const answered = model.controlPlane.answeredAt;
  const times = answered === null ? [] : [answered];
  for (const n of model.nodes) {
    const at = n.host?.clock ? n.host.clock.node * 1000 : Number.NaN;
    // A node clock far off the manager's (cluster.clock.skew's finding) would make everything look recent: not a collection time.
    if (Number.isFinite(at) && (answered === null || Math.abs(at - answered) <= MAX_SKEW_SEC * 1000)) times.push(at);
  }
  if (times.length) return Math.min(...times);
  const at = Date.parse(model.snapshot.startedAt);
  return Number.isNaN(at) ? null : at;
}

/** `web.3.<id>` → service `web`, slot (or node id of a global task) `3`. */
function slotOf(name: string): { service: string; slot: string } | null {
  const parts = name.split('.');
  return parts.length >= 3 ? { service: parts.slice(0, -2).join('.'), slot: parts[parts.length - 2]! } : null;
}

interface Context {
  recent: (ms: number | null) => boolean;
  tasks: Map<string, TaskRecord>;
  /** Services by name (as views name them). */
  services: Map<string, ServiceRecord>;
  /** Tasks by service id. */
  byService: Map<string, TaskRecord[]>;
}

/** A task starting, being shut down, just finished or just changed. */
function taskMoving(t: TaskRecord, c: Context): boolean {
  const settledRunning = t.state === 'running' && t.desired === 'running';
  if (!settledRunning && holdsAddresses(t.state)) return true;
  return c.recent(t.changedAt);
}

/**
 * Whether a task endpoint some view lists is changing. A task the list
 * knows is judged by its own record (or its service's update in progress);
 * one it does not know appeared after the list was read or vanished from it:
 * changing when its service just changed (a scale) or when its slot's task is
 * itself changing (a restart), and otherwise a leftover.
 */
function endpointMoving(f: Fact, c: Context): boolean {
  const svc = f.service === undefined ? undefined : c.services.get(f.service);
  if (svc?.updating) return true;
  const rec = f.taskId ? c.tasks.get(f.taskId) : undefined;
  if (rec) return taskMoving(rec, c);
  if (svc && c.recent(svc.changedAt)) return true;
  const slot = slotOf(f.name ?? '');
  if (!svc || !slot) return false;
  return (c.byService.get(svc.id) ?? []).some((t) => (String(t.slot) === slot.slot || t.nodeId === slot.slot) && taskMoving(t, c));
}

/**
 * The facts of `net` left out of the comparison: task endpoints changing
 * during the collection; the peer entry and load-balancer endpoint of a node
 * whose every task on the network is changing (a node gains both with its
 * first task on the network and loses them with its last); VIPs of services
 * just created.
 * `endpoints`: how many task and load-balancer endpoints that is.
 */
export function fluxOf(model: Model, net: NetworkFacts, facts: Iterable<Fact>): { keys: Set<string>; endpoints: number } {
  const start = collectionStart(model);
  const c: Context = {
    recent: (ms) => ms !== null && start !== null && ms >= start - SETTLE_SEC * 1000,
    tasks: new Map(model.controlPlane.tasks.map((t) => [t.id, t])),
    services: new Map([...model.controlPlane.services.values()].map((s) => [s.name, s])),
    byService: new Map(),
  };
  for (const t of model.controlPlane.tasks) {
    const list = c.byService.get(t.serviceId);
    if (list) list.push(t);
    else c.byService.set(t.serviceId, [t]);
  }
  const all = [...facts];
  const keys = new Set<string>();
  // Nodes with a changing task on the network, and nodes with a settled one (that keeps them a peer whatever else changes).
  const hosts = new Set<string>();
  const settled = new Set<string>();
  for (const f of all) {
    if (f.kind !== 'task') continue;
    const moving = endpointMoving(f, c);
    if (moving) keys.add(f.key);
    if (f.hostIp) (moving ? hosts : settled).add(f.hostIp);
  }
  // Tasks on this network the views do not list (yet, or any more) count for their node too.
  for (const t of c.tasks.values()) {
    if (!t.addresses.some((a) => a.networkId === net.id) || !holdsAddresses(t.state)) continue;
    const ip = model.ipByName.get(model.nameById.get(t.nodeId) ?? '');
    const svc = model.controlPlane.services.get(t.serviceId);
    if (ip) (taskMoving(t, c) || svc?.updating ? hosts : settled).add(ip);
  }
  for (const ip of settled) hosts.delete(ip);
  for (const f of all) {
    const moving =
      (f.kind === 'peer' && hosts.has(f.key.slice('peer '.length))) ||
      (f.kind === 'lb' && f.hostIp !== undefined && hosts.has(f.hostIp)) ||
      (f.kind === 'vip' && f.service !== undefined && c.recent(c.services.get(f.service)?.createdAt ?? null));
    if (moving) keys.add(f.key);
  }
  const endpoints = all.filter((f) => (f.kind === 'task' || f.kind === 'lb') && keys.has(f.key));
  return { keys, endpoints: new Set(endpoints.map((f) => f.key)).size };
}
