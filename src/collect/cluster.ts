/**
 * Cluster facts from a manager's Engine API: swarm, nodes, networks with the
 * verbose inspect (Peers and per-service Tasks with their node's IP: the
 * ground truth each node's FDB is compared against), services and tasks.
 * `fetchClusterRaw` does the I/O; `buildClusterFacts` is pure.
 */
import type Dockerode from 'dockerode';
import { sortNodes, summariseNode, type EngineNode } from '../cluster/nodes.js';
import { redactJson } from '../bundle/secrets.js';
import type { ClusterFacts, NetworkEndpoint, NetworkFacts, NetworkListEntry, ServiceFacts } from '../snapshot/types.js';
import { infoOnce } from '../docker/info-once.js';

export type ClusterRaw = ClusterFacts['raw'];

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-argument --
   Engine API JSON as the daemon answers it, read defensively field by field below. */
type J = Record<string, any>;

export async function fetchClusterRaw(docker: Dockerode): Promise<ClusterRaw> {
  // Only swarm-scoped overlays carry Peers/Services; inspect those verbosely, as soon as the list is in.
  const listed = docker.listNetworks() as Promise<J[]>;
  const inspected = listed.then((networks) =>
    Promise.all(
      networks
        .filter((n) => n.Driver === 'overlay')
        .map((n) => (docker.getNetwork(n.Id).inspect as (o: unknown) => Promise<J>)({ verbose: true, scope: 'swarm' }).catch(() => n)),
    ),
  );
  const [info, swarm, nodes, networks, verbose, services, tasks] = await Promise.all([
    infoOnce(docker),
    docker.swarmInspect(),
    docker.listNodes(),
    listed,
    inspected,
    docker.listServices(),
    docker.listTasks() as Promise<J[]>,
  ]);
  // Every network the manager lists, of any driver and scope, cut to what names it (an external
  // network of the stack is looked up among them as docker stack deploy does) and the config-only
  // network a --config-from one needs on each node: no options, no labels.
  const networkList = networks.map((n) => ({ Id: n.Id, Name: n.Name, Driver: n.Driver, Scope: n.Scope, ConfigFrom: n.ConfigFrom }));
  return redactClusterRaw({
    info,
    swarm,
    nodes,
    networks: verbose,
    services,
    tasks: tasksToKeep(tasks, Date.parse(String((info as J)?.SystemTime))),
    networkList,
  });
}

/** Finished tasks older than this (by the manager's clock) are history, left out of the snapshot. */
const HISTORY_SEC = 600;
const PAST_RUNNING = new Set(['complete', 'shutdown', 'failed', 'rejected', 'remove', 'orphaned']);

/**
 * The tasks a snapshot keeps from the manager's full list: those the swarm
 * wants running, those not yet past running whatever their desired state
 * (they hold their addresses: a task being shut down during a rollout), and
 * those that finished in the last HISTORY_SEC before `now` (a change
 * the nodes' views may still be catching up with). Older history is left out.
 */
export function tasksToKeep(tasks: J[], now: number): J[] {
  return tasks.filter((t) => {
    if (t?.DesiredState === 'running' || !PAST_RUNNING.has(String(t?.Status?.State))) return true;
    const at = Date.parse(String(t?.Status?.Timestamp));
    return Number.isNaN(now) || Number.isNaN(at) || at >= now - HISTORY_SEC * 1000;
  });
}

/**
 * Secrets never enter a snapshot (and so never a bundle): the swarm join
 * tokens are dropped; environment values of services and tasks are
 * replaced, keeping the names (`PASSWORD=<redacted>`); every logging-driver
 * option (`LogDriver.Options` of services, their previous specs, tasks, and
 * the swarm's `TaskDefaults`, in the swarm inspect and in `docker info`'s
 * cluster spec) and every label or option whose key names a secret become
 * `<redacted>`; strings go through the secret patterns of the bundle scan.
 * The rules are those of bundle/secrets.ts.
 */
export function redactClusterRaw(raw: ClusterRaw): ClusterRaw {
  const swarm = { ...(raw.swarm as J) };
  delete swarm.JoinTokens;
  const red = <T>(v: T): T => redactJson(v, {}, { text: true }) as T;
  return {
    info: red(raw.info),
    swarm: red(swarm),
    nodes: red(raw.nodes),
    networks: red(raw.networks),
    services: red(raw.services),
    tasks: red(raw.tasks),
    ...(raw.networkList === undefined ? {} : { networkList: red(raw.networkList) }),
  };
}

/** GET /networks entries as NetworkListEntry; undefined when the snapshot predates the list. */
export function buildNetworkList(list: unknown): NetworkListEntry[] | undefined {
  if (!Array.isArray(list)) return undefined;
  return (list as J[]).map((n) => ({
    id: String(n.Id ?? ''),
    name: String(n.Name ?? ''),
    driver: String(n.Driver ?? ''),
    scope: String(n.Scope ?? ''),
    ...(typeof n.ConfigFrom?.Network === 'string' && n.ConfigFrom.Network !== '' ? { configFrom: n.ConfigFrom.Network as string } : {}),
  }));
}

const stripPrefix = (cidr: unknown): string => (typeof cidr === 'string' ? cidr.split('/')[0]! : '');

export function buildNetworkFacts(n: J): NetworkFacts {
  const opts: J = n.Options ?? {};
  const endpoints: NetworkEndpoint[] = [];
  const serviceVips: Record<string, string> = {};
  for (const [svcName, svc] of Object.entries((n.Services ?? {}) as Record<string, J>)) {
    // The ingress-endpoint pseudo-service reports VIP "<nil>".
    if (svcName !== '' && /^[0-9a-f.:]+(\/\d+)?$/i.test(String(svc.VIP ?? ''))) serviceVips[svcName] = stripPrefix(svc.VIP);
    for (const t of (svc.Tasks ?? []) as J[]) {
      endpoints.push({
        service: svcName,
        task: String(t.Name ?? ''),
        ip: stripPrefix(t.EndpointIP),
        hostIp: String(t.Info?.['Host IP'] ?? ''),
        kind: svcName === '' || /-endpoint$/.test(String(t.Name ?? '')) ? 'lb' : 'task',
      });
    }
  }
  const mtu = Number.parseInt(String(opts['com.docker.network.driver.mtu'] ?? ''), 10);
  return {
    id: String(n.Id ?? ''),
    name: String(n.Name ?? ''),
    driver: String(n.Driver ?? ''),
    scope: String(n.Scope ?? ''),
    ingress: n.Ingress === true,
    internal: n.Internal === true,
    attachable: n.Attachable === true,
    encrypted: 'encrypted' in opts,
    subnets: ((n.IPAM?.Config ?? []) as J[]).map((c) => ({ subnet: String(c.Subnet ?? ''), gateway: c.Gateway ? String(c.Gateway) : null })),
    vnis: String(opts['com.docker.network.driver.overlay.vxlanid_list'] ?? '')
      .split(',')
      .map((v) => Number.parseInt(v, 10))
      .filter((v) => !Number.isNaN(v)),
    mtu: Number.isNaN(mtu) ? null : mtu,
    peers: ((n.Peers ?? []) as J[]).map((p) => ({ name: String(p.Name ?? ''), ip: String(p.IP ?? '') })),
    endpoints,
    serviceVips,
  };
}

export function buildServiceFacts(s: J, tasks: J[]): ServiceFacts {
  const mode = s.Spec?.Mode?.Replicated ? 'replicated' : s.Spec?.Mode?.Global ? 'global' : 'other';
  return {
    id: String(s.ID),
    name: String(s.Spec?.Name ?? s.ID),
    mode,
    replicas: mode === 'replicated' ? Number(s.Spec.Mode.Replicated.Replicas ?? 0) : null,
    networks: ((s.Spec?.TaskTemplate?.Networks ?? s.Spec?.Networks ?? []) as J[]).map((n) => String(n.Target)),
    ports: ((s.Endpoint?.Ports ?? []) as J[]).map((p) => ({
      protocol: String(p.Protocol ?? 'tcp'),
      targetPort: Number(p.TargetPort),
      publishedPort: p.PublishedPort === undefined ? null : Number(p.PublishedPort),
      publishMode: String(p.PublishMode ?? 'ingress'),
    })),
    endpointMode: s.Spec?.EndpointSpec?.Mode === 'dnsrr' ? 'dnsrr' : 'vip',
    vips: ((s.Endpoint?.VirtualIPs ?? []) as J[]).map((v) => ({ networkId: String(v.NetworkID), addr: String(v.Addr) })),
    runningTasks: tasks
      .filter((t) => t.ServiceID === s.ID && t.Status?.State === 'running' && t.DesiredState === 'running')
      .map((t) => ({
        id: String(t.ID),
        slot: typeof t.Slot === 'number' ? t.Slot : null,
        nodeId: String(t.NodeID ?? ''),
        addresses: ((t.NetworksAttachments ?? []) as J[]).flatMap((a) =>
          ((a.Addresses ?? []) as string[]).map((addr) => ({ networkId: String(a.Network?.ID ?? ''), addr })),
        ),
      })),
  };
}

export function buildClusterFacts(raw: ClusterRaw): ClusterFacts {
  const info = raw.info as J;
  const swarm = raw.swarm as J;
  const nodes = sortNodes((raw.nodes as EngineNode[]).map(summariseNode));
  const self = (raw.nodes as J[]).find((n) => n.ID === info?.Swarm?.NodeID);
  const networkList = buildNetworkList(raw.networkList);
  return {
    swarmId: swarm?.ID ?? null,
    managerNode: self?.Description?.Hostname ?? info?.Name ?? null,
    dataPathPort: Number(swarm?.DataPathPort || 4789),
    defaultAddrPool: (swarm?.DefaultAddrPool as string[] | undefined) ?? [],
    subnetSize: typeof swarm?.SubnetSize === 'number' ? swarm.SubnetSize : null,
    nodes,
    networks: (raw.networks as J[]).map(buildNetworkFacts),
    services: (raw.services as J[]).map((s) => buildServiceFacts(s, raw.tasks as J[])),
    ...(networkList ? { networkList } : {}),
    raw,
  };
}
