/**
 * Cluster checks: what the manager's view of the swarm says, cross-checked
 * with the nodes' own facts where that decides it — swarm active, manager
 * quorum, node states, advertise addresses, engine versions, subnet overlaps
 * and the data-path port.
 */
import type { NodeSummary } from '../cluster/nodes.js';
import type { ClusterSnapshot, NetworkFacts } from '../snapshot/types.js';
import { cidrsOverlap, isLinkLocal, isLoopback, isUnspecified, parseCidr, parseIp, type Cidr } from '../net/ip.js';
import { interfaceWithAddress, isDockerInterface, listText, notCollectedReason, plural, snapshotOf, underlayPrefixes } from '../model/nodes.js';
import { defineCheck, type Check, type CheckContext, type FindingDraft } from './legacy.js';

const noSwarm = (s: ClusterSnapshot): FindingDraft[] | null =>
  s.cluster.swarmId === null ? [{ status: 'skip', detail: 'no active swarm (see cluster.swarm.active)' }] : null;

/** Run a cluster check only when the endpoint is a swarm manager. */
const inSwarm =
  (fn: (ctx: CheckContext) => FindingDraft[]) =>
  (ctx: CheckContext): FindingDraft[] =>
    noSwarm(ctx.snapshot) ?? fn(ctx);

// ---------------------------------------------------------------------------

// ---------------------------------------------------------------------------

const managersQuorum = defineCheck(
  {
    id: 'cluster.managers.quorum',
    layer: 'cluster',
    title: 'Manager quorum',
    looksAt: 'ManagerStatus of every manager: how many are reachable against the raft majority, whether there is a leader, and whether the manager count is odd.',
    remediation: 'Bring unreachable managers back (start dockerd, fix 2377/tcp between managers) or replace them (`docker node demote`/`docker node rm`, then promote a healthy node); keep an odd number of managers.',
  },
  inSwarm(({ snapshot }) => {
    const managers = snapshot.cluster.nodes.filter((n) => n.role === 'manager');
    const total = managers.length;
    if (total === 0) return [{ status: 'skip', detail: 'the manager reported no managers' }];
    const reachable = managers.filter((m) => m.managerStatus === 'leader' || m.managerStatus === 'reachable');
    const down = managers.filter((m) => !reachable.includes(m));
    const majority = Math.floor(total / 2) + 1;
    const tolerance = Math.floor((total - 1) / 2);
    const out: FindingDraft[] = [];
    const names = (l: NodeSummary[]) => listText(l.map((m) => m.name));

    if (reachable.length < majority) {
      out.push({
        status: 'fail',
        detail: `quorum lost: ${reachable.length} of ${total} managers reachable, raft needs ${majority}${down.length ? ` (unreachable: ${names(down)})` : ''}; the swarm cannot change state (no scheduling, no updates, no new networks).`,
        remediation: `Bring ${down.length ? names(down) : 'the managers'} back first; if they are gone for good, on a surviving manager \`docker swarm init --force-new-cluster --advertise-addr <its IP>\` and promote new managers.`,
      });
    } else if (!managers.some((m) => m.leader)) {
      out.push({ status: 'fail', detail: `no leader among ${total} managers (${reachable.length} reachable): raft is electing or split.`, remediation: 'Check 2377/tcp between the managers and their clocks; `docker node ls` on each manager.' });
    }
    for (const m of down) {
      const left = reachable.length - 1;
      out.push({
        status: reachable.length < majority ? 'fail' : 'warn',
        node: m.name,
        detail: `manager ${m.name} is ${m.managerStatus ?? 'unknown'} (${reachable.length}/${total} reachable, quorum needs ${majority}${
          reachable.length >= majority ? `; ${left >= majority ? `one more loss is still tolerated` : 'one more loss and the swarm loses quorum'}` : ''
        }).`,
        remediation: `On ${m.name}: \`systemctl status docker\`, check 2377/tcp from the other managers (\`nc -zv ${m.advertiseAddress ?? m.name} 2377\`); if it is gone for good: \`docker node demote ${m.name} && docker node rm --force ${m.name}\` on a manager and promote a replacement.`,
      });
    }
    if (total % 2 === 0) {
      out.push({
        status: 'warn',
        detail: `${total} managers: an even count tolerates no more failures than ${total - 1} (${tolerance}) and adds raft traffic.`,
        remediation: `Promote one more node (\`docker node promote <node>\`) or demote one (\`docker node demote ${managers[managers.length - 1]!.name}\`) to get an odd count.`,
      });
    }
    if (total > 7) {
      out.push({
        status: 'warn',
        detail: `${total} managers: more than 7 slows raft down without useful extra fault tolerance.`,
        remediation: 'Demote managers down to 3, 5 or 7 (`docker node demote <node>`).',
      });
    }
    if (out.length === 0) {
      out.push({
        status: 'pass',
        detail:
          total === 1
            ? `single manager ${managers[0]!.name} (leader): no fault tolerance — losing it stops the control plane; promote two more nodes for 3 managers when this matters`
            : `${reachable.length}/${total} managers reachable (${names(managers)}), leader ${managers.find((m) => m.leader)?.name ?? '?'}, tolerates ${plural(tolerance, 'manager failure')}`,
      });
    }
    return out;
  }),
);

// ---------------------------------------------------------------------------

const nodesState = defineCheck(
  {
    id: 'cluster.nodes.state',
    layer: 'cluster',
    title: 'Nodes ready and active',
    looksAt: 'Status.State (ready/down/unknown/disconnected) and Spec.Availability (active/pause/drain) of every node.',
    remediation: 'On the node: `systemctl status docker` and its journal; `docker node inspect <node> --format "{{.Status.Message}}"` on a manager.',
  },
  inSwarm(({ snapshot }) =>
    snapshot.cluster.nodes.flatMap((n): FindingDraft[] => {
      const out: FindingDraft[] = [];
      if (n.state !== 'ready') {
        out.push({
          status: n.state === 'down' ? 'fail' : 'warn',
          node: n.name,
          detail: `${n.name} (${n.role}${n.advertiseAddress ? `, ${n.advertiseAddress}` : ''}) is ${n.state}: the managers do not get its heartbeats, its tasks are rescheduled elsewhere and no overlay traffic reaches it.`,
          remediation: `On ${n.name}: \`systemctl status docker\` and \`journalctl -u docker -n 100\`; on a manager \`docker node inspect ${n.name} --format '{{.Status.Message}}'\`, and check 2377/tcp and 7946 tcp+udp from ${n.name} to the managers. If it was removed for good: \`docker node rm ${n.name}\`.`,
        });
      }
      if (n.availability !== 'active') {
        out.push({
          status: 'warn',
          node: n.name,
          detail: `${n.name} availability is ${n.availability}: ${n.availability === 'drain' ? 'it runs no service tasks (ingress still routes through it)' : n.availability === 'pause' ? 'no new tasks are scheduled on it' : 'the scheduler does not use it normally'}.`,
          remediation: `When the maintenance is over: \`docker node update --availability active ${n.name}\`.`,
        });
      }
      if (out.length === 0) out.push({ status: 'pass', node: n.name, detail: `${n.name} is ready and active (${n.role}${n.managerStatus ? `, ${n.managerStatus}` : ''})` });
      return out;
    }),
  ),
);

// ---------------------------------------------------------------------------

const advertiseAddress = defineCheck(
  {
    id: 'cluster.advertise.address',
    layer: 'cluster',
    title: 'Advertise addresses usable',
    looksAt: "Each node's advertise address as the swarm knows it: set, not loopback/unspecified/link-local, unique across nodes, and an address of one of the node's own interfaces (not a Docker bridge).",
    remediation: 'Rejoin the node with the right address: `docker swarm leave` then `docker swarm join --advertise-addr <underlay IP> …` (managers: demote first).',
  },
  inSwarm(({ snapshot }) => {
    const nodes = snapshot.cluster.nodes;
    const out: FindingDraft[] = [];
    const rejoin = (n: NodeSummary, ip = '<underlay IP>') =>
      `${n.role === 'manager' ? `Demote ${n.name} first (\`docker node demote ${n.name}\`), then on` : 'On'} ${n.name}: \`docker swarm leave\` and \`docker swarm join --advertise-addr ${ip} --token <token> <manager>:2377\`; remove the old entry with \`docker node rm ${n.name}\`.`;
    for (const n of nodes) {
      const a = n.advertiseAddress;
      if (a === null) {
        out.push({ status: 'warn', node: n.name, detail: `the swarm reports no usable address for ${n.name} (Status.Addr and ManagerStatus.Addr empty or 0.0.0.0).`, remediation: rejoin(n) });
        continue;
      }
      if (parseIp(a) === null) {
        out.push({ status: 'warn', node: n.name, detail: `${n.name}'s advertise address "${a}" is not an IP address.`, remediation: rejoin(n) });
        continue;
      }
      if (isLoopback(a) || isUnspecified(a) || isLinkLocal(a)) {
        out.push({
          status: 'fail',
          node: n.name,
          detail: `${n.name} advertises ${a} (${isLoopback(a) ? 'loopback' : isUnspecified(a) ? 'unspecified' : 'link-local'}): other nodes cannot reach it for gossip or VXLAN.`,
          remediation: rejoin(n),
        });
        continue;
      }
      const same = nodes.filter((o) => o !== n && o.advertiseAddress === a);
      if (same.length > 0) {
        out.push({
          status: 'fail',
          node: n.name,
          peer: same[0]!.name,
          detail: `${n.name} and ${listText(same.map((o) => o.name))} advertise the same address ${a}: VXLAN and gossip for one of them go to the other (cloned VM, NAT, or the wrong --advertise-addr).`,
          remediation: rejoin(n),
        });
        continue;
      }
      const snap = snapshotOf(snapshot, n);
      if (!snap || snap.host === null) {
        out.push({ status: 'skip', node: n.name, detail: snap ? notCollectedReason(snap) : `${n.name} was not collected: cannot see its interfaces` });
        continue;
      }
      if (snap.host.interfaces.length === 0) {
        out.push({ status: 'skip', node: n.name, detail: 'interfaces not collected (ip addr failed)' });
        continue;
      }
      const iface = interfaceWithAddress(snap.host, a);
      if (iface === null) {
        const own = snap.host.interfaces
          .filter((i) => i.name !== 'lo' && !isDockerInterface(i.name))
          .flatMap((i) => i.addresses.filter((x) => x.family === 'inet' && !isLinkLocal(x.address)).map((x) => `${x.address} (${i.name})`));
        const suggest = own[0]?.split(' ')[0] ?? '<underlay IP>';
        out.push({
          status: 'fail',
          node: n.name,
          detail: `${n.name} advertises ${a}, but no interface on ${n.name} has that address${own.length ? ` (it has ${own.join(', ')})` : ''}: a wrong --advertise-addr, an address that changed (DHCP), or a NAT address; VXLAN from this node leaves from a different source than peers expect.`,
          remediation: rejoin(n, suggest),
        });
        continue;
      }
      if (isDockerInterface(iface)) {
        out.push({
          status: 'fail',
          node: n.name,
          detail: `${n.name} advertises ${a}, which is on ${iface}, a Docker bridge: other nodes cannot reach it.`,
          remediation: rejoin(n),
        });
        continue;
      }
      out.push({ status: 'pass', node: n.name, detail: `${n.name} advertises ${a}, on ${iface}` });
    }
    return out;
  }),
);

// ---------------------------------------------------------------------------

const engineSkew = defineCheck(
  {
    id: 'cluster.engine.skew',
    layer: 'cluster',
    title: 'Same Docker Engine version everywhere',
    looksAt: 'Description.Engine.EngineVersion of every node (the node\'s own `docker version` when the swarm does not report it).',
    remediation: 'Upgrade the nodes to one Engine version, managers first, one node at a time (drain, upgrade, activate).',
  },
  inSwarm(({ snapshot }) => {
    const byVersion = new Map<string, string[]>();
    const unknown: string[] = [];
    for (const n of snapshot.cluster.nodes) {
      const v = n.engineVersion ?? snapshotOf(snapshot, n)?.host?.dockerVersion ?? null;
      if (v === null) {
        unknown.push(n.name);
        continue;
      }
      byVersion.set(v, [...(byVersion.get(v) ?? []), n.name]);
    }
    const note = unknown.length ? `; version unknown for ${listText(unknown)}` : '';
    if (byVersion.size === 0) return [{ status: 'skip', detail: 'no node reported its Engine version' }];
    const list = [...byVersion.entries()].sort((a, b) => b[1].length - a[1].length);
    if (list.length === 1) {
      return [{ status: 'pass', detail: `all ${plural(list[0]![1].length, 'node')} run Engine ${list[0]![0]}${note}` }];
    }
    const text = list.map(([v, ns]) => `${v} on ${listText(ns)}`).join('; ');
    const majors = new Set(list.map(([v]) => v.split('.')[0]));
    return [
      {
        status: 'warn',
        detail: `Engine versions differ: ${text}${note}${majors.size > 1 ? '. Different major versions change overlay, iptables and IPVS programming between nodes' : ''}; mixed versions are meant only for the time of a rolling upgrade.`,
        remediation: `Upgrade ${listText(list.slice(1).flatMap(([, ns]) => ns))} to ${list[0]![0]} (or all to the newest), one node at a time: \`docker node update --availability drain <node>\`, upgrade docker-ce, \`docker node update --availability active <node>\`.`,
      },
    ];
  }),
);

// ---------------------------------------------------------------------------

interface Subnet {
  network: NetworkFacts;
  cidr: Cidr;
}

/** Docker's built-in default address pool when the swarm reports none. */
const DEFAULT_POOL = '10.0.0.0/8';

const subnetsOverlap = defineCheck(
  {
    id: 'cluster.subnets.overlap',
    layer: 'cluster',
    title: 'Overlay subnets do not overlap',
    looksAt:
      "Subnets of the swarm's overlay networks (ingress included) against each other and against every node's underlay (interface prefixes, docker_gwbridge/docker0, and main-table routes); the swarm's default address pool against the underlay.",
    remediation: 'Recreate the overlapping network with a free subnet (`docker network create -d overlay --subnet <free /24> …`), and initialise swarms with a `--default-addr-pool` outside the underlay.',
  },
  inSwarm(({ snapshot }) => {
    const c = snapshot.cluster;
    const out: FindingDraft[] = [];
    const subnets: Subnet[] = [];
    // Overlays only: a swarm-scoped macvlan/ipvlan network shares the underlay's subnet on purpose.
    for (const network of c.networks.filter((x) => x.driver === 'overlay')) {
      for (const s of network.subnets) {
        const cidr = parseCidr(s.subnet);
        if (cidr) subnets.push({ network, cidr });
      }
    }
    const recreate = (net: NetworkFacts) =>
      net.ingress
        ? 'Remove the services that publish ports, `docker network rm ingress`, `docker network create --driver overlay --ingress --subnet <free /24> ingress`, then redeploy them.'
        : `Recreate ${net.name} with a free subnet: remove its services, \`docker network rm ${net.name}\`, \`docker network create -d overlay --subnet <free /24> ${net.name}\`, redeploy.`;

    // Overlay against overlay.
    for (let i = 0; i < subnets.length; i++) {
      for (let j = i + 1; j < subnets.length; j++) {
        const a = subnets[i]!;
        const b = subnets[j]!;
        if (a.network.id === b.network.id || !cidrsOverlap(a.cidr, b.cidr)) continue;
        out.push({
          status: 'fail',
          network: a.network.name,
          detail: `overlay ${a.network.name} ${a.cidr.text} overlaps ${b.network.name} ${b.cidr.text}: a task on both gets two routes for the same addresses and reaches the wrong one.`,
          remediation: recreate(b.network.ingress ? a.network : b.network),
        });
      }
    }

    // Overlay and address pool against each node's underlay.
    const pools = (c.defaultAddrPool.length ? c.defaultAddrPool : [DEFAULT_POOL]).map(parseCidr).filter((x): x is Cidr => x !== null);
    const poolNote = c.defaultAddrPool.length ? '' : ' (Docker\'s default, the swarm reports no --default-addr-pool)';
    let nodesSeen = 0;
    for (const node of snapshot.nodes) {
      if (node.host === null) {
        out.push({ status: 'skip', node: node.name, detail: `underlay unknown: ${notCollectedReason(node)}` });
        continue;
      }
      nodesSeen++;
      const under = underlayPrefixes(node.host);
      for (const s of subnets) {
        for (const u of under) {
          if (!cidrsOverlap(s.cidr, u.cidr)) continue;
          out.push({
            status: u.connected ? 'fail' : 'warn',
            node: node.name,
            network: s.network.name,
            detail: u.docker
              ? `overlay ${s.network.name} ${s.cidr.text} overlaps ${u.source} on ${node.name}: tasks attached to both reach the wrong side.`
              : u.connected
                ? `overlay ${s.network.name} ${s.cidr.text} overlaps the underlay ${u.cidr.text} on ${node.name} (${u.source}): tasks on ${s.network.name} cannot reach hosts in ${u.cidr.text}, and the node's addresses there collide with task addresses.`
                : `overlay ${s.network.name} ${s.cidr.text} overlaps ${u.source} on ${node.name}: tasks on ${s.network.name} cannot reach the hosts behind that route in the overlapping range.`,
            remediation: recreate(s.network),
          });
        }
      }
      for (const pool of pools) {
        const hits = under.filter((u) => !u.docker && cidrsOverlap(pool, u.cidr));
        if (hits.length === 0) continue;
        out.push({
          status: 'warn',
          node: node.name,
          detail: `the swarm's default address pool ${pool.text}${poolNote} overlaps the underlay of ${node.name}: ${hits.map((h) => `${h.cidr.text} (${h.source})`).join(', ')}; new overlay networks created without --subnet can be given these addresses.`,
          remediation: `Create overlays with an explicit free --subnet; for a new swarm use \`docker swarm init --default-addr-pool <range outside ${hits.map((h) => h.cidr.text).join(', ')}>\` (the pool cannot be changed on an existing swarm).`,
        });
      }
    }
    if (!out.some((f) => f.status !== 'skip')) {
      out.push({
        status: 'pass',
        detail: `${plural(subnets.length, 'overlay subnet')} (${subnets.map((s) => `${s.network.name} ${s.cidr.text}`).join(', ')}) overlap neither each other nor the underlay of ${plural(nodesSeen, 'collected node')}; address pool ${pools.map((p) => p.text).join(', ')}${poolNote} is clear of it`,
      });
    }
    return out;
  }),
);

// ---------------------------------------------------------------------------

const datapathPort = defineCheck(
  {
    id: 'cluster.datapath.port',
    layer: 'cluster',
    title: 'VXLAN data-path port',
    looksAt: 'The swarm\'s data-path port (4789 unless `docker swarm init --data-path-port`), which every firewall between nodes must allow as udp.',
    remediation: 'Allow udp/<data-path port> between all nodes in every firewall and security group.',
  },
  inSwarm(({ snapshot }) => {
    const p = snapshot.cluster.dataPathPort;
    if (p === 4789) return [{ status: 'pass', detail: 'data-path port is the default udp/4789' }];
    if (p < 1024 || p > 49151) {
      return [
        {
          status: 'warn',
          detail: `data-path port is ${p}, outside 1024–49151 (the range docker swarm init accepts): it may collide with a well-known or ephemeral port.`,
          remediation: 'Re-create the swarm with `docker swarm init --data-path-port <1024-49151>`.',
        },
      ];
    }
    return [{ status: 'pass', detail: `data-path port is ${p} (not 4789): firewalls and security groups between the nodes must allow udp/${p}, not udp/4789` }];
  }),
);

export const clusterChecks: readonly Check[] = [managersQuorum, nodesState, advertiseAddress, engineSkew, subnetsOverlap, datapathPort];
