/**
 * The snapshot's schema, checked on every read (snapshot files, the
 * snapshot inside a bundle) with valibot: a file someone else made must be
 * what the checks expect before any check dereferences it, or be refused
 * with one line naming the first place it is not (exit 2). Objects are
 * loose (unknown keys kept: a newer minor writer may add fields); every
 * field the checks and renderers read is typed. Mirrors types.ts: keep the
 * two in step.
 */
import * as v from 'valibot';

const str = v.string();
const num = v.number();
const int = v.pipe(v.number(), v.integer());
const bool = v.boolean();
const nstr = v.nullable(str);
const nnum = v.nullable(num);
const strs = v.array(str);
const obj = v.looseObject;

export const RawSectionSchema = obj({
  stdout: str,
  stderr: str,
  rc: v.nullable(int),
  truncated: v.optional(bool),
  droppedBytes: v.optional(num),
});

const NodeSummarySchema = obj({
  name: str,
  id: str,
  role: v.picklist(['manager', 'worker']),
  managerStatus: nstr,
  leader: bool,
  availability: str,
  state: str,
  advertiseAddress: nstr,
  engineVersion: nstr,
  sshAddress: nstr,
});

const NetworkFactsSchema = obj({
  id: str,
  name: str,
  driver: str,
  scope: str,
  ingress: bool,
  internal: bool,
  attachable: bool,
  encrypted: bool,
  subnets: v.array(obj({ subnet: str, gateway: nstr })),
  vnis: v.array(num),
  mtu: nnum,
  peers: v.array(obj({ name: str, ip: str })),
  endpoints: v.array(obj({ service: str, task: str, ip: str, hostIp: str, kind: v.picklist(['task', 'lb']) })),
  serviceVips: v.record(str, str),
});

const ServiceFactsSchema = obj({
  id: str,
  name: str,
  mode: v.picklist(['replicated', 'global', 'other']),
  replicas: nnum,
  networks: strs,
  ports: v.array(obj({ protocol: str, targetPort: num, publishedPort: nnum, publishMode: str })),
  endpointMode: v.picklist(['vip', 'dnsrr']),
  vips: v.array(obj({ networkId: str, addr: str })),
  runningTasks: v.array(obj({ id: str, slot: nnum, nodeId: str, addresses: v.array(obj({ networkId: str, addr: str })) })),
});

const J = v.looseObject({});
const ClusterFactsSchema = obj({
  swarmId: nstr,
  managerNode: nstr,
  dataPathPort: num,
  defaultAddrPool: strs,
  subnetSize: nnum,
  nodes: v.array(NodeSummarySchema),
  networks: v.array(NetworkFactsSchema),
  services: v.array(ServiceFactsSchema),
  networkList: v.optional(v.array(obj({ id: str, name: str, driver: str, scope: str, configFrom: v.optional(str) }))),
  // The Engine API's own answers: shapes are docker's; checks read them defensively, but lists must be lists.
  raw: obj({
    info: v.nullable(J),
    swarm: v.nullable(J),
    nodes: v.array(J),
    networks: v.array(J),
    services: v.array(J),
    tasks: v.array(J),
    networkList: v.optional(v.array(J)),
  }),
});

const Unavailable = obj({ unavailable: v.literal(true), reason: str });

const HostFactsSchema = obj({
  hostname: nstr,
  kernel: nstr,
  os: nstr,
  uid: nnum,
  dockerVersion: nstr,
  dockerPackage: v.optional(v.nullable(obj({ exe: nstr, manager: v.nullable(v.picklist(['dpkg', 'rpm', 'snap'])), name: nstr }))),
  containerdVersion: nstr,
  dockerd: obj({ running: bool, pid: nnum, cmdline: nstr, separateMountNs: v.nullable(bool), execRoot: str }),
  mountFlags: nstr,
  mountFlagsSource: v.picklist(['systemctl', 'unit-file', 'none']),
  modules: v.record(str, bool),
  sysctls: v.record(str, nstr),
  iptables: obj({
    version: nstr,
    defaultBackend: v.picklist(['nft', 'legacy', 'unknown']),
    dockerRulesIn: v.array(v.picklist(['legacy', 'nft'])),
  }),
  interfaces: v.array(
    obj({
      name: str,
      kind: nstr,
      mtu: nnum,
      state: nstr,
      addresses: v.array(obj({ family: v.picklist(['inet', 'inet6']), address: str, prefixLen: num })),
    }),
  ),
  routes: v.array(obj({ dst: str, dev: nstr, gateway: nstr, protocol: nstr })),
  listening: v.union([v.array(obj({ proto: str, address: str, port: num, process: nstr })), Unavailable]),
  offload: v.union([v.record(str, obj({ driver: nstr, features: v.record(str, str) })), Unavailable]),
  clock: v.nullable(obj({ node: num, localReceived: num })),
});

const SandboxSchema = obj({
  name: str,
  kind: v.picklist(['overlay', 'lb', 'ingress', 'container', 'other']),
  networkIdPrefix: nstr,
  networkId: nstr,
  networkName: nstr,
  enterError: nstr,
  links: v.array(
    obj({
      name: str,
      kind: nstr,
      mtu: nnum,
      state: nstr,
      master: nstr,
      mac: nstr,
      vxlan: v.optional(obj({ id: nnum, port: nnum, local: nstr, learning: v.nullable(bool) })),
    }),
  ),
  addresses: v.array(obj({ ifname: str, address: str, prefixLen: num })),
  fdb: v.array(obj({ mac: str, dev: str, dst: nstr, vlan: nnum, flags: strs, state: nstr })),
  neighbours: v.array(obj({ dst: str, dev: str, mac: nstr, state: strs })),
});

export const NodeSnapshotSchema = obj({
  name: str,
  id: nstr,
  target: obj({ host: str, port: num, user: str, via: strs }),
  status: v.picklist(['ok', 'partial', 'unreachable', 'error']),
  errors: v.array(obj({ stage: str, kind: str, message: str })),
  timings: obj({ connectMs: nnum, execMs: nnum, totalMs: num, nodeCpuMs: v.optional(nnum) }),
  raw: v.record(str, RawSectionSchema),
  host: v.nullable(HostFactsSchema),
  sandboxes: v.array(SandboxSchema),
  sandboxAccess: v.picklist(['direct', 'dockerd-mount-ns', 'none']),
});

const state = v.picklist(['ok', 'blocked', 'unconfirmed']);
const ProbeResultsSchema = obj({
  startedAt: str,
  durationMs: num,
  ports: v.array(
    obj({
      from: str,
      to: str,
      proto: v.picklist(['tcp', 'udp', 'esp']),
      port: nnum,
      purpose: v.picklist(['manager', 'gossip', 'data-path', 'esp']),
      state,
      detail: str,
      senderRefused: v.optional(v.literal(true)),
    }),
  ),
  mtu: v.array(obj({ from: str, to: str, payload: num, required: num, state, detail: str })),
  dataPath: v.array(obj({ from: str, to: str, network: str, sandbox: str, target: str, state, dfState: v.nullable(state), detail: str })),
  errors: v.array(obj({ node: str, message: str })),
});

export const ClusterSnapshotSchema = obj({
  schemaVersion: int,
  tool: obj({ name: str, version: str }),
  startedAt: str,
  durationMs: num,
  endpoint: obj({ host: str, context: str }),
  cluster: ClusterFactsSchema,
  nodes: v.array(NodeSnapshotSchema),
  probes: v.optional(ProbeResultsSchema),
});

/** null when `value` matches `schema`, else one line: where (a dotted path) and what is wrong, control characters escaped by the caller. */
export function schemaProblem(schema: v.GenericSchema, value: unknown): string | null {
  const r = v.safeParse(schema, value, { abortEarly: true });
  if (r.success) return null;
  const issue = r.issues[0];
  const path = v.getDotPath(issue) ?? '(top level)';
  const shown = path.length > 120 ? `${path.slice(0, 120)}…` : path;
  return `${shown}: ${issue.message}`;
}
