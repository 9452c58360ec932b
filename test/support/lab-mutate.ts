/**
 * Faults on the recorded lab snapshot, for check tests: each returns a fresh
 * snapshot (structuredClone of the recording) with one thing changed the way
 * a real node shows it.
 */
import type { RawSection } from '../../src/collect/sections.js';
import { buildHostFacts } from '../../src/parse/host.js';
import type { ClusterSnapshot, NodeSnapshot, SandboxSnapshot } from '../../src/snapshot/types.js';
import { labSnapshot } from './lab-fixtures.js';

/**
 * The engine of the recording the check tests mutate: 20.10 (test/fixtures/lab/healthy,
 * the `unit` project) or 26 (healthy-26, the `unit-26` project: ND_FIXTURE_ENGINE=26).
 * Docker 26 programs other iptables chains and sandboxes; a check test holds on both.
 */
export const FIXTURE_ENGINE: '20.10' | '26' = process.env.ND_FIXTURE_ENGINE === '26' ? '26' : '20.10';

const HEALTHY = labSnapshot(FIXTURE_ENGINE === '26' ? 'healthy-26' : 'healthy');

/** The recorded healthy lab (nd1 manager, nd2/nd3 workers, overlay ndnet with web on every node). */
export const lab = (): ClusterSnapshot => structuredClone(HEALTHY);

export const nodeOf = (s: ClusterSnapshot, name: string): NodeSnapshot => s.nodes.find((n) => n.name === name)!;
export const sandboxOf = (s: ClusterSnapshot, node: string, sandbox: string): SandboxSnapshot =>
  nodeOf(s, node).sandboxes.find((x) => x.name === sandbox)!;

const NDNET_ID = HEALTHY.cluster.networks.find((n) => n.name === 'ndnet')!.id;
/** The overlay sandbox of ndnet in the recording (1-aweos9uhri in the 20.10 one). */
export const NDNET_SANDBOX = `1-${NDNET_ID.slice(0, 10)}`;
/** Its load-balancer sandbox (lb_aweos9uhr in the 20.10 one). */
export const NDNET_LB = `lb_${NDNET_ID.slice(0, 9)}`;

/** A lab snapshot changed by `fn`. */
export function labWith(fn: (s: ClusterSnapshot) => void): ClusterSnapshot {
  const s = lab();
  fn(s);
  return s;
}

/** A node that could not be collected, at `stage` (connect, auth, hostkey, sudo, exec, timeout). */
export function makeUnreachable(s: ClusterSnapshot, name: string, stage = 'connect', message = `connect ECONNREFUSED ${name}:22`): void {
  Object.assign(nodeOf(s, name), {
    status: stage === 'exec' ? 'error' : 'unreachable',
    errors: [{ stage, kind: stage, message }],
    raw: {},
    host: null,
    sandboxes: [],
    sandboxAccess: 'none',
  });
}

/** Replace (or with `undefined`, drop) one raw section of a node and re-derive its host facts, as collection would have. */
export function setSection(s: ClusterSnapshot, name: string, section: string, value: RawSection | undefined): void {
  const n = nodeOf(s, name);
  if (value === undefined) delete n.raw[section];
  else n.raw[section] = value;
  n.host = buildHostFacts(n.raw, n.host!.clock!.localReceived);
}

export const ok = (stdout: string): RawSection => ({ stdout, stderr: '', rc: 0 });
export const failed = (stderr: string, rc = 1): RawSection => ({ stdout: '', stderr, rc });

/**
 * The recording predates log collection: give every collected node the two
 * log sections a current run reads, empty (a quiet hour), as a healthy node shows them.
 */
export function withQuietLogs(s: ClusterSnapshot): ClusterSnapshot {
  for (const n of s.nodes) {
    if (n.host === null) continue;
    n.raw['host/docker-log'] = ok('');
    n.raw['host/kernel-log'] = ok('');
  }
  return s;
}

/**
 * The recording predates the host-table sections: give every collected node
 * what the lab's nodes print for them (test/e2e/host.test.ts checks the lab
 * against this): the resolver of the machine's /etc/resolv.conf, no
 * /proc/net/stat/arp_cache (a network namespace other than the host's), no
 * nmcli, and this namespace's conntrack count against the host's maximum.
 */
export function withHostTables(s: ClusterSnapshot): ClusterSnapshot {
  for (const n of s.nodes) {
    if (n.host === null) continue;
    n.raw['host/resolv'] = ok('# /etc/resolv.conf\nnameserver 10.255.255.53');
    n.raw['host/arp-cache'] = failed('no /proc/net/stat/arp_cache: not the host network namespace, or no IPv4');
    n.raw['host/nmcli'] = failed('nmcli: command not found', 127);
    const sysctl = n.raw['host/sysctl'];
    if (sysctl)
      n.raw['host/sysctl'] = {
        ...sysctl,
        stdout: `${sysctl.stdout.trimEnd()}\nnet/netfilter/nf_conntrack_count=0\nnet/netfilter/nf_conntrack_max=262144`,
      };
    n.host = buildHostFacts(n.raw, n.host.clock!.localReceived);
  }
  return s;
}
