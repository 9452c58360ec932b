/**
 * Reading the load-balancer state docker programs for services: IPVS tables
 * and iptables marks in ingress_sbox / lb_<prefix> sandboxes, the host's
 * DOCKER-INGRESS DNAT, and the task addresses they must point at. Pure.
 */
import { portSpecIncludes, type IptablesDump, type IptRule } from '../parse/iptables.js';
import { fwmarkOf, parseIpvsadm, type IpvsService, type IpvsTable } from '../parse/ipvs.js';
import type { ClusterSnapshot, NetworkFacts, NodeSnapshot, SandboxSnapshot, ServiceFacts } from '../snapshot/types.js';
import { firstLine } from './sections.js';
import { inNetwork, stripPrefixLen } from './topology.js';

export type IpvsRead =
  | { state: 'ok'; table: IpvsTable; sandbox: string }
  /** The kernel has no IPVS: docker cannot program any load balancer. */
  | { state: 'unavailable'; reason: string; sandbox: string }
  /** We could not tell (no ipvsadm, sandbox not entered, section missing). */
  | { state: 'unreadable'; reason: string; sandbox: string };

const NO_IPVS = /IPVS is not available|Can't initialize ipvs|Protocol not available|IP Virtual Server is built in the kernel/i;

/** The IPVS table of a sandbox from its `netns/<sandbox>/ipvs` section. */
export function readIpvs(node: NodeSnapshot, sb: SandboxSnapshot): IpvsRead {
  const sandbox = sb.name;
  if (sb.enterError !== null) return { state: 'unreadable', reason: `${sandbox} could not be entered: ${sb.enterError}`, sandbox };
  const sec = node.raw[`netns/${sandbox}/ipvs`];
  if (!sec) return { state: 'unreadable', reason: `the IPVS table of ${sandbox} was not collected`, sandbox };
  const text = `${sec.stdout}\n${sec.stderr}`;
  if (NO_IPVS.test(text)) return { state: 'unavailable', reason: firstLine(sec.stderr) || firstLine(sec.stdout), sandbox };
  if (sec.rc !== 0) {
    return {
      state: 'unreadable',
      reason: `ipvsadm -Ln failed in ${sandbox} (exit ${sec.rc ?? 'none'}: ${firstLine(sec.stderr) || 'no message'})`,
      sandbox,
    };
  }
  const table = parseIpvsadm(sec.stdout);
  if (!table.available) return { state: 'unreadable', reason: `ipvsadm -Ln in ${sandbox}: ${table.reason ?? 'no table'}`, sandbox };
  return { state: 'ok', table, sandbox };
}

/**
 * Whether IPVS works on a node: from ingress_sbox, else any lb_ sandbox (the
 * kernel is the same for all). The first definite answer wins; null when the
 * node has no load-balancer sandbox at all.
 */
export function nodeIpvs(node: NodeSnapshot): IpvsRead | null {
  const sbs = [...node.sandboxes.filter((s) => s.kind === 'ingress'), ...node.sandboxes.filter((s) => s.kind === 'lb')];
  let first: IpvsRead | null = null;
  for (const sb of sbs) {
    const r = readIpvs(node, sb);
    if (r.state !== 'unreadable') return r;
    first ??= r;
  }
  return first;
}

export interface PublishedPort {
  service: ServiceFacts;
  protocol: string;
  port: number;
  target: number;
}

/** Ports published through the routing mesh (PublishMode ingress). */
export function ingressPorts(s: ClusterSnapshot): PublishedPort[] {
  return s.cluster.services.flatMap((service) =>
    service.ports
      .filter((p) => p.publishMode === 'ingress' && p.publishedPort !== null)
      .map((p) => ({ service, protocol: p.protocol.toLowerCase(), port: p.publishedPort!, target: p.targetPort })),
  );
}

export const portText = (p: PublishedPort): string => `${p.port}/${p.protocol} (${p.service.name})`;

/** Running task addresses of a service on a network, with a label for messages. */
export function taskIps(svc: ServiceFacts, net: NetworkFacts): Map<string, string> {
  const out = new Map<string, string>();
  for (const t of svc.runningTasks) {
    for (const a of t.addresses) {
      if (a.networkId === net.id) out.set(stripPrefixLen(a.addr), `${svc.name}${t.slot !== null ? `.${t.slot}` : ''}.${t.id}`);
    }
  }
  if (out.size === 0) {
    for (const e of net.endpoints) if (e.kind === 'task' && e.service === svc.name) out.set(e.ip, e.task);
  }
  return out;
}

/** The service's VIP on a network (without prefix length), or null. */
export function serviceVip(svc: ServiceFacts, net: NetworkFacts): string | null {
  if (svc.endpointMode !== 'vip') return null;
  const v = svc.vips.find((x) => x.networkId === net.id);
  return v ? stripPrefixLen(v.addr) : (net.serviceVips[svc.name] ?? null);
}

const protoOk = (r: IptRule, proto: string): boolean => r.protocol === proto && !r.negations.includes('-p') && !r.negations.includes('--protocol');

/** fwmarks set by PREROUTING MARK rules for a published port (ingress_sbox mangle). */
export function portMarks(dump: IptablesDump, proto: string, port: number): number[] {
  return (dump.tables.mangle?.rules ?? [])
    .filter(
      (r) =>
        r.chain === 'PREROUTING' &&
        r.target === 'MARK' &&
        r.setMark !== undefined &&
        protoOk(r, proto) &&
        r.dport !== undefined &&
        portSpecIncludes(r.dport, port) === true,
    )
    .map((r) => fwmarkOf(r.setMark!))
    .filter((m) => !Number.isNaN(m));
}

/** fwmarks set by `-d <vip>/32 -j MARK` rules in any mangle chain (INPUT today, OUTPUT on old engines). */
export function vipMarks(dump: IptablesDump, vip: string): number[] {
  return (dump.tables.mangle?.rules ?? [])
    .filter(
      (r) =>
        r.target === 'MARK' && r.setMark !== undefined && (r.destination === vip || r.destination === `${vip}/32`) && !r.negations.includes('-d'),
    )
    .map((r) => fwmarkOf(r.setMark!))
    .filter((m) => !Number.isNaN(m));
}

/** ingress_sbox's address on docker_gwbridge: the one the host DNATs published ports to. */
export function ingressGatewayAddress(sb: SandboxSnapshot, ingress: NetworkFacts | undefined): string | null {
  const a = sb.addresses.find((x) => x.ifname !== 'lo' && (!ingress || !inNetwork(x.address, ingress)) && !x.address.includes(':'));
  return a?.address ?? null;
}

export interface BackendDiff {
  missing: string[];
  /** Real servers that are no running task, with their weight. */
  stale: { ip: string; weight: number }[];
  /** Running tasks present with weight 0 (being drained). */
  drained: string[];
  present: number;
}

export function diffBackends(svc: IpvsService, expected: Map<string, string>): BackendDiff {
  const real = new Map(svc.realServers.map((r) => [r.address, r.weight]));
  return {
    missing: [...expected.keys()].filter((ip) => !real.has(ip)),
    stale: svc.realServers.filter((r) => !expected.has(r.address)).map((r) => ({ ip: r.address, weight: r.weight })),
    drained: svc.realServers.filter((r) => expected.has(r.address) && r.weight === 0).map((r) => r.address),
    present: svc.realServers.filter((r) => expected.has(r.address)).length,
  };
}
