/**
 * Overlay layer: the per-network VXLAN sandboxes (`<epoch>-<network id
 * prefix>`, br0 + vxlan0) on every node, compared with the manager's ground
 * truth (which node hosts which endpoint), plus the active data-path probes
 * and IPsec state of encrypted overlays. Pure functions of the snapshot.
 */
import type { FdbEntry, NetworkFacts, NodeSnapshot, SandboxSnapshot } from '../snapshot/types.js';
import {
  derivedMac,
  expectedMacs,
  hostingNodes,
  isDeadNetns,
  listText,
  networkMembers,
  networkSandboxes,
  nodeLabel,
  nsenter,
  execRoot,
  overlayNetworks,
  perCheckableNode,
  pickSandbox,
  topology,
  unseenLbHosts,
  vxlanDevs,
  vxlanLinks,
  type Member,
  type Topology,
} from '../model/topology.js';
import { parseXfrmState } from '../parse/xfrm.js';
import { defineCheck, type Check, type CheckContext, type FindingDraft } from './legacy.js';

// ---------------------------------------------------------------------------
// Iteration over (node, overlay network) sandboxes

interface Pair {
  t: Topology;
  node: NodeSnapshot;
  net: NetworkFacts;
  sb: SandboxSnapshot;
  /** The node's advertise address (always set when `needAddr`). */
  addr: string | null;
  members: Member[];
}

/**
 * Run `fn` for every overlay sandbox that could be read. Nodes that were not
 * collected give one skip per check; a sandbox that is missing where tasks
 * run, or could not be entered, one skip per (node, network): the cause is
 * reported by overlay.sandbox.missing.
 */
function perSandbox(
  ctx: CheckContext,
  fn: (p: Pair) => FindingDraft[],
  opts: { needAddr?: boolean; networks?: (n: NetworkFacts) => boolean; sections?: string[] } = {},
): FindingDraft[] {
  const t = topology(ctx.snapshot);
  const nets = overlayNetworks(ctx.snapshot).filter(opts.networks ?? (() => true));
  const hosting = new Map(nets.map((n) => [n.id, hostingNodes(t, n)]));
  const members = new Map<string, Member[]>();
  return perCheckableNode(ctx.snapshot, (node) => {
    const addr = t.ipByName.get(node.name) ?? null;
    if (opts.needAddr && addr === null) {
      return [{ status: 'skip', node: node.name, detail: `the swarm reports no advertise address for ${node.name}; cannot tell local from remote endpoints` }];
    }
    const out: FindingDraft[] = [];
    for (const net of nets) {
      const sb = pickSandbox(networkSandboxes(node, net, 'overlay'));
      if (!sb) {
        if (hosting.get(net.id)?.has(node.name)) {
          out.push({ status: 'skip', node: node.name, network: net.name, detail: `no overlay sandbox for ${net.name} on ${node.name} (see overlay.sandbox.missing)` });
        }
        continue;
      }
      if (sb.enterError !== null) {
        out.push({ status: 'skip', node: node.name, network: net.name, detail: `sandbox ${sb.name} on ${node.name} could not be entered: ${sb.enterError}` });
        continue;
      }
      // An empty parsed table from a failed command must not read as "no entries".
      const bad = (opts.sections ?? []).map((w) => ({ w, sec: node.raw[`netns/${sb.name}/${w}`] })).find((x) => x.sec?.rc !== 0);
      if (bad) {
        const why = bad.sec ? `failed (exit ${bad.sec.rc ?? 'none'}: ${bad.sec.stderr.split('\n')[0] ?? ''})` : 'was not collected';
        out.push({ status: 'skip', node: node.name, network: net.name, detail: `${bad.w} of ${sb.name} on ${node.name} ${why}` });
        continue;
      }
      if (!members.has(net.id)) members.set(net.id, networkMembers(t, net));
      out.push(...fn({ t, node, net, sb, addr, members: members.get(net.id)! }));
    }
    return out;
  });
}

const memberText = (m: Member, mac: string | null): string => `${m.ip} (${mac ?? 'MAC unknown'}, ${(m.what)})`;

function groupBy<T>(items: T[], key: (x: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const x of items) {
    const k = key(x);
    const list = out.get(k) ?? [];
    list.push(x);
    out.set(k, list);
  }
  return out;
}

// ---------------------------------------------------------------------------
// overlay.sandbox.missing

const staleRemedy = (node: NodeSnapshot, sb: SandboxSnapshot): string =>
  `on ${node.name}: umount ${execRoot(node)}/netns/${sb.name} 2>/dev/null; rm -f ${execRoot(node)}/netns/${sb.name} ` +
  `(first make sure no network id starts with ${sb.networkIdPrefix ?? '<prefix>'}: docker network ls --no-trunc); if it comes back, systemctl restart docker on ${node.name}`;

const sandboxMissing = defineCheck(
  {
    id: 'overlay.sandbox.missing',
    layer: 'overlay',
    title: 'Overlay sandbox present on every node hosting the network; no stale sandboxes',
    looksAt:
      'docker network namespaces (<exec-root>/netns) on each node: a <epoch>-<network id prefix> sandbox for every overlay network with a task or endpoint on the node (manager ground truth), and 1-…/lb_… sandboxes of no existing network or whose namespace is gone',
    remediation: 'docker service update --force <service> (re-creates the tasks and the network sandbox); if it persists, systemctl restart docker on the node',
  },
  (ctx) => {
    const t = topology(ctx.snapshot);
    const nets = overlayNetworks(ctx.snapshot);
    const knownNetworks = ctx.snapshot.cluster.networks.length > 0;
    return perCheckableNode(ctx.snapshot, (node) => {
      const out: FindingDraft[] = [];
      for (const net of nets) {
        const hosted = hostingNodes(t, net).get(node.name);
        const sbs = networkSandboxes(node, net, 'overlay');
        const sb = pickSandbox(sbs);
        if (hosted) {
          const what = listText(hosted, 3);
          if (!sb) {
            const svcs = [...new Set(net.endpoints.filter((e) => e.kind === 'task' && t.nameByIp.get(e.hostIp) === node.name).map((e) => e.service))];
            out.push({
              status: 'fail',
              node: node.name,
              network: net.name,
              detail: `${node.name} hosts ${what} on ${net.name} but has no overlay sandbox 1-${net.id.slice(0, 10)}: those tasks are cut off from the overlay`,
              remediation: net.ingress
                ? `systemctl restart docker on ${node.name} (the ingress sandbox is created when the node joins the swarm)`
                : `docker service update --force ${svcs[0] ?? '<service>'}${svcs.length > 1 ? ` (also ${svcs.slice(1).join(', ')})` : ''}; if the sandbox is still missing on ${node.name}, systemctl restart docker on ${node.name}`,
            });
          } else if (sb.enterError !== null) {
            if (isDeadNetns(node, sb)) {
              out.push({
                status: 'fail',
                node: node.name,
                network: net.name,
                detail: `${node.name} hosts ${what} on ${net.name}, but its sandbox ${sb.name} is a dead netns file (${sb.enterError}): the namespace behind it is gone`,
                remediation: `${staleRemedy(node, sb)}; then docker service update --force <service> so docker re-creates the sandbox`,
              });
            } else {
              out.push({ status: 'skip', node: node.name, network: net.name, detail: `sandbox ${sb.name} on ${node.name} could not be entered: ${sb.enterError}` });
            }
          } else {
            out.push({ status: 'pass', node: node.name, network: net.name, detail: `${node.name} hosts ${what} on ${net.name} and has its sandbox ${sb.name}` });
          }
        }
        // Several epochs of the same network's sandbox: the older one is left over.
        if (sbs.length > 1) {
          out.push({
            status: 'warn',
            node: node.name,
            network: net.name,
            detail: `${node.name} has ${sbs.length} overlay sandboxes for ${net.name} (${sbs.map((s) => s.name).join(', ')}); only one is in use, the others are stale netns files`,
            remediation: `on ${node.name}: remove the one not in use (ls -l ${execRoot(node)}/netns; umount + rm the older), or systemctl restart docker`,
          });
        }
        // Dead netns files of a network this node no longer hosts.
        if (!hosted) {
          for (const s of sbs.filter((x) => isDeadNetns(node, x))) {
            out.push({
              status: 'warn',
              node: node.name,
              network: net.name,
              detail: `stale sandbox ${s.name} on ${node.name}: the netns file is left but its namespace is gone (${s.enterError})`,
              remediation: staleRemedy(node, s),
            });
          }
        }
      }
      for (const s of node.sandboxes) {
        if (s.kind !== 'overlay' && s.kind !== 'lb') continue;
        if (s.networkId === null && knownNetworks) {
          out.push({
            status: 'warn',
            node: node.name,
            detail: `stale sandbox ${s.name} on ${node.name}: no overlay network id starts with ${s.networkIdPrefix ?? '?'} (netns file left after the network was removed)${s.enterError ? `; it cannot be entered (${s.enterError})` : ''}`,
            remediation: staleRemedy(node, s),
          });
        } else if (s.kind === 'lb' && s.networkId !== null && isDeadNetns(node, s)) {
          out.push({
            status: 'warn',
            node: node.name,
            network: s.networkName,
            detail: `stale load-balancer sandbox ${s.name} on ${node.name}: the netns file is left but its namespace is gone (${s.enterError})`,
            remediation: staleRemedy(node, s),
          });
        }
      }
      return out;
    });
  },
);

// ---------------------------------------------------------------------------
// overlay.vxlan.config

const vxlanConfig = defineCheck(
  {
    id: 'overlay.vxlan.config',
    layer: 'overlay',
    title: 'vxlan interface carries the network VNI and the swarm data-path port',
    looksAt: 'vxlan links (ip -d link) in each overlay sandbox: VXLAN id vs the network\'s vxlanid_list, dstport vs the swarm data-path port, link state',
    remediation: 'systemctl restart docker on the node so the sandbox is rebuilt from the swarm network definition',
  },
  (ctx) => {
    const port = ctx.snapshot.cluster.dataPathPort;
    return perSandbox(ctx, ({ node, net, sb }) => {
      const vx = vxlanLinks(sb);
      const remedy = `systemctl restart docker on ${node.name} (or remove and re-create the tasks there: docker service update --force <service>) so ${sb.name} is rebuilt with VNI ${net.vnis.join(',') || '?'} and port ${port}`;
      if (vx.length === 0) {
        return [{ status: 'fail', node: node.name, network: net.name, detail: `sandbox ${sb.name} on ${node.name} has no vxlan interface: ${net.name} cannot reach other nodes`, remediation: remedy }];
      }
      const problems: string[] = [];
      const unknown: string[] = [];
      for (const l of vx) {
        const id = l.vxlan?.id ?? null;
        const p = l.vxlan?.port ?? null;
        if (id === null) unknown.push(`${l.name} VNI`);
        else if (net.vnis.length > 0 && !net.vnis.includes(id)) problems.push(`${l.name} has VNI ${id}, the network's is ${net.vnis.join(',')}`);
        if (p === null) unknown.push(`${l.name} port`);
        else if (p !== port) problems.push(`${l.name} sends to udp/${p}, the swarm data-path port is ${port}`);
        if (l.state === 'DOWN') problems.push(`${l.name} is DOWN`);
      }
      const ids = new Set(vx.map((l) => l.vxlan?.id));
      for (const v of net.vnis) if (!ids.has(v) && vx.every((l) => l.vxlan?.id != null)) problems.push(`no vxlan interface for VNI ${v}`);
      if (problems.length > 0) {
        return [{ status: 'fail', node: node.name, network: net.name, detail: `${sb.name} on ${node.name}: ${problems.join('; ')}: VXLAN frames are not understood by the other nodes`, remediation: remedy }];
      }
      if (unknown.length > 0) {
        return [{ status: 'warn', node: node.name, network: net.name, detail: `${sb.name} on ${node.name}: could not read ${unknown.join(', ')} (ip -d link gave no vxlan details)`, remediation: `check by hand: ${nsenter(node, sb.name)} ip -d link show type vxlan` }];
      }
      return [{ status: 'pass', node: node.name, network: net.name, detail: `${vx.map((l) => `${l.name} VNI ${l.vxlan?.id} port ${l.vxlan?.port}`).join(', ')}` }];
    }, { sections: ['link'] });
  },
);

// ---------------------------------------------------------------------------
// overlay.mtu.consistent

const mtuConsistent = defineCheck(
  {
    id: 'overlay.mtu.consistent',
    layer: 'overlay',
    title: 'Overlay MTU fits the underlay MTU minus VXLAN overhead',
    looksAt:
      'MTU of vxlan/br0/veth links in each overlay sandbox vs the MTU of the host interface carrying the node\'s advertise address (minus 50 bytes, 70 over IPv6), and vs the network option com.docker.network.driver.mtu',
    remediation:
      'Re-create the network with a smaller MTU (docker network create -d overlay --opt com.docker.network.driver.mtu=<underlay MTU - 50> …; services must be moved to it), or raise the underlay MTU',
  },
  (ctx) =>
    perSandbox(
      ctx,
      ({ node, net, sb, addr }) => {
        const iface = node.host?.interfaces.find((i) => i.addresses.some((a) => a.address === addr));
        if (!iface || iface.mtu === null) {
          return [{ status: 'skip', node: node.name, network: net.name, detail: `no host interface of ${node.name} carries its advertise address ${addr}; underlay MTU unknown` }];
        }
        const overhead = addr!.includes(':') ? 70 : 50;
        const limit = iface.mtu - overhead;
        const links = sb.links.filter((l) => l.name !== 'lo' && l.mtu !== null && (l.kind === 'vxlan' || l.kind === 'bridge' || l.master !== null));
        const over = links.filter((l) => l.mtu! > limit);
        const vx = vxlanLinks(sb);
        const base = `${iface.name} on ${node.name} has MTU ${iface.mtu}, so the overlay may use at most ${limit} (${overhead} bytes of VXLAN overhead)`;
        const fixMtu = net.ingress
          ? `re-create the ingress network with a smaller MTU (services publishing ports must be removed first): docker network rm ${net.name}; docker network create --driver overlay --ingress --opt com.docker.network.driver.mtu=${limit} ${net.name}; or raise the MTU of ${iface.name} on ${node.name}`
          : `docker network create -d overlay --opt com.docker.network.driver.mtu=${limit} … and move the services of ${net.name} to it (the MTU of an existing network cannot change), or raise the MTU of ${iface.name} on ${node.name}`;
        const byMtu = [...groupBy(over, (l) => String(l.mtu))].map(([mtu, ls]) => `${ls.map((l) => l.name).join(', ')} MTU ${mtu}`).join('; ');
        const out: FindingDraft[] = [];
        if (over.length > 0) {
          out.push({
            status: 'fail',
            node: node.name,
            network: net.name,
            detail: `${sb.name}: ${byMtu}; ${base}: full-size packets are fragmented or silently dropped (small requests work, large responses hang)`,
            remediation: fixMtu,
          });
        } else if (net.mtu !== null && net.mtu > limit) {
          out.push({ status: 'fail', node: node.name, network: net.name, detail: `network option mtu=${net.mtu} of ${net.name}; ${base}: tasks created from now on get a too-large MTU`, remediation: fixMtu });
        } else if (net.mtu !== null && vx.some((l) => l.mtu !== null && l.mtu !== net.mtu)) {
          out.push({
            status: 'warn',
            node: node.name,
            network: net.name,
            detail: `network option mtu=${net.mtu} but ${vx.map((l) => `${l.name} has MTU ${l.mtu}`).join(', ')} in ${sb.name} on ${node.name}: the sandbox was built with other settings`,
            remediation: `systemctl restart docker on ${node.name} (or docker service update --force on the services of ${net.name}) so the sandbox is rebuilt`,
          });
        }
        if (out.length === 0) {
          const shown = vx[0] ?? links[0];
          out.push({ status: 'pass', node: node.name, network: net.name, detail: `${shown ? `${shown.name} MTU ${shown.mtu}` : 'overlay MTU'} ≤ ${limit} (${iface.name} MTU ${iface.mtu} − ${overhead})` });
        }
        return out;
      },
      { needAddr: true, sections: ['link'] },
    ),
);

// ---------------------------------------------------------------------------
// FDB checks

interface FdbAnalysis {
  /** By hosting node IP. */
  missing: Map<string, { m: Member; mac: string | null }[]>;
  wrong: Map<string, { m: Member; mac: string; wrongDsts: string[]; alsoRight: boolean }[]>;
  /** By dst. */
  stale: Map<string, { e: FdbEntry; why: string }[]>;
  remoteCount: number;
  unverified: number;
}

function analyseFdb(p: Pair): FdbAnalysis {
  const macs = expectedMacs(p.members, p.sb);
  const devs = vxlanDevs(p.sb);
  const remote = p.sb.fdb.filter((e) => devs.has(e.dev) && e.dst !== null);
  const byMac = groupBy(remote, (e) => e.mac);
  const owner = new Map<string, Member>();
  for (const m of p.members) {
    const mac = macs.get(m.ip)?.mac;
    if (mac) owner.set(mac, m);
  }
  const a: FdbAnalysis = { missing: new Map(), wrong: new Map(), stale: new Map(), remoteCount: 0, unverified: 0 };
  const push = <T>(map: Map<string, T[]>, k: string, v: T) => map.set(k, [...(map.get(k) ?? []), v]);
  for (const m of p.members) {
    if (m.hostIp === p.addr) continue;
    a.remoteCount++;
    const mac = macs.get(m.ip)?.mac ?? null;
    const entries = mac ? (byMac.get(mac) ?? []) : [];
    if (entries.length === 0) push(a.missing, m.hostIp, { m, mac });
    else if (!entries.some((e) => e.dst === m.hostIp)) push(a.wrong, m.hostIp, { m, mac: mac!, wrongDsts: entries.map((e) => e.dst!), alsoRight: false });
    else if (entries.some((e) => e.dst !== m.hostIp))
      push(a.wrong, m.hostIp, { m, mac: mac!, wrongDsts: entries.filter((e) => e.dst !== m.hostIp).map((e) => e.dst!), alsoRight: true });
  }
  const unseen = unseenLbHosts(p.t, p.net);
  for (const e of remote) {
    const dst = e.dst!;
    const o = owner.get(e.mac);
    const dstIsNode = p.t.nameByIp.has(dst);
    if (o) {
      if (o.hostIp === p.addr) push(a.stale, dst, { e, why: `${(o.what)} ${o.ip} runs on ${p.node.name} itself` });
      continue; // a remote owner with another dst is wrong-dst
    }
    if (e.mac === '00:00:00:00:00:00') {
      if (!dstIsNode) push(a.stale, dst, { e, why: `flood entry toward ${dst}, which is no swarm node` });
      continue;
    }
    if (!dstIsNode) push(a.stale, dst, { e, why: `no endpoint of ${p.net.name} has this MAC and ${dst} is no swarm node` });
    else if (unseen.has(dst)) a.unverified++;
    else push(a.stale, dst, { e, why: `no endpoint of ${p.net.name} has this MAC` });
  }
  return a;
}

const fdbCmd = (p: Pair, dev: string, mac: string | null, dst: string): string =>
  `${nsenter(p.node, p.sb.name)} bridge fdb replace ${mac ?? '<mac>'} dev ${dev} dst ${dst} self permanent`;
const devOf = (p: Pair): string => [...vxlanDevs(p.sb)][0] ?? 'vxlan0';

/** Run `fn` with the FDB analysis of every readable overlay sandbox (the overlay.fdb.* checks). */
const perFdb = (ctx: CheckContext, fn: (p: Pair, a: FdbAnalysis) => FindingDraft[]): FindingDraft[] =>
  perSandbox(ctx, (p) => fn(p, analyseFdb(p)), { needAddr: true, sections: ['link', 'fdb'] });

const fdbMissing = defineCheck(
  {
    id: 'overlay.fdb.missing',
    layer: 'overlay',
    title: 'VXLAN FDB knows every remote endpoint of the network',
    looksAt:
      'bridge fdb (vxlan0 entries with dst) in each overlay sandbox vs every endpoint of the network hosted on another node (manager ground truth plus each node\'s lb endpoint), MAC 02:42:<ip> or the hosting node\'s own interface MAC',
    remediation:
      'On the node: nsenter --net=/var/run/docker/netns/<sandbox> bridge fdb replace <mac> dev vxlan0 dst <node ip> self permanent; then fix gossip (tcp+udp/7946) between the two nodes, and docker service update --force <service> for a lasting fix',
  },
  (ctx) =>
    perFdb(ctx, (p, a) => {
      const out: FindingDraft[] = [];
      for (const [hostIp, list] of a.missing) {
        const peer = nodeLabel(p.t, hostIp);
        const svcs = [...new Set(list.map((x) => x.m.service).filter((s): s is string => s !== null))];
        out.push({
          status: 'fail',
          node: p.node.name,
          peer,
          network: p.net.name,
          detail: `${p.sb.name} on ${p.node.name} has no FDB entry for ${list.length} endpoint(s) on ${peer} (${hostIp}): ${listText(list.map((x) => memberText(x.m, x.mac)))}; ${p.node.name} cannot send to them over VXLAN (the gossip update from ${peer} never arrived)`,
          remediation: `on ${p.node.name}: ${list.map((x) => fdbCmd(p, devOf(p), x.mac, hostIp)).join('; ')}; then check gossip tcp+udp/7946 between ${p.node.name} and ${peer}${svcs.length > 0 ? ` and docker service update --force ${svcs.join(' / ')}` : ''}`,
        });
      }
      if (out.length === 0) {
        out.push({ status: 'pass', node: p.node.name, network: p.net.name, detail: `${p.sb.name}: FDB has entries for all ${a.remoteCount} remote endpoint(s)` });
      }
      return out;
    }),
);

const fdbWrongDst = defineCheck(
  {
    id: 'overlay.fdb.wrong-dst',
    layer: 'overlay',
    title: 'VXLAN FDB entries point at the node that hosts the endpoint',
    looksAt: 'bridge fdb dst of each remote endpoint\'s MAC in each overlay sandbox vs the underlay IP of the node hosting the endpoint (manager ground truth)',
    remediation: 'On the node: nsenter --net=/var/run/docker/netns/<sandbox> bridge fdb replace <mac> dev vxlan0 dst <right node ip> self permanent',
  },
  (ctx) =>
    perFdb(ctx, (p, a) => {
      const out: FindingDraft[] = [];
      for (const [hostIp, list] of a.wrong) {
        const peer = nodeLabel(p.t, hostIp);
        const exclusive = list.filter((x) => !x.alsoRight);
        const extra = list.filter((x) => x.alsoRight);
        const say = (x: (typeof list)[number]) =>
          `${memberText(x.m, x.mac)} → ${x.wrongDsts.map((d) => `${nodeLabel(p.t, d)} (${d})`).join(', ')}`;
        if (exclusive.length > 0) {
          out.push({
            status: 'fail',
            node: p.node.name,
            peer,
            network: p.net.name,
            detail: `${p.sb.name} on ${p.node.name} sends traffic for endpoints on ${peer} (${hostIp}) to the wrong node: ${listText(exclusive.map(say))}; they run on ${peer}, so the frames are dropped`,
            remediation: `on ${p.node.name}: ${exclusive.map((x) => fdbCmd(p, devOf(p), x.mac, hostIp)).join('; ')}`,
          });
        }
        if (extra.length > 0) {
          out.push({
            status: 'warn',
            node: p.node.name,
            peer,
            network: p.net.name,
            detail: `${p.sb.name} on ${p.node.name} has, besides the right entry toward ${peer}, extra FDB destinations: ${listText(extra.map(say))}; frames are also copied there`,
            remediation: `on ${p.node.name}: ${extra
              .flatMap((x) => x.wrongDsts.map((d) => `${nsenter(p.node, p.sb.name)} bridge fdb del ${x.mac} dev ${devOf(p)} dst ${d} self`))
              .join('; ')}`,
          });
        }
      }
      if (out.length === 0) out.push({ status: 'pass', node: p.node.name, network: p.net.name, detail: `${p.sb.name}: every FDB entry of a remote endpoint points at its node` });
      return out;
    }),
);

const fdbStale = defineCheck(
  {
    id: 'overlay.fdb.stale',
    layer: 'overlay',
    title: 'No stale VXLAN FDB entries',
    looksAt: 'bridge fdb entries with a dst in each overlay sandbox whose MAC belongs to no current endpoint of the network, or whose dst is no swarm node',
    remediation: 'On the node: nsenter --net=/var/run/docker/netns/<sandbox> bridge fdb del <mac> dev vxlan0 dst <ip> self (and ip neigh del <ip> dev vxlan0)',
  },
  (ctx) =>
    perFdb(ctx, (p, a) => {
      const out: FindingDraft[] = [];
      const dev = devOf(p);
      for (const [dst, list] of a.stale) {
        const peer = nodeLabel(p.t, dst);
        const cmds = list.flatMap(({ e }) => {
          const neigh = p.sb.neighbours.filter((n) => n.mac === e.mac && n.dev === e.dev);
          return [
            `${nsenter(p.node, p.sb.name)} bridge fdb del ${e.mac} dev ${e.dev} dst ${dst} self`,
            ...neigh.map((n) => `${nsenter(p.node, p.sb.name)} ip neigh del ${n.dst} dev ${n.dev}`),
          ];
        });
        out.push({
          status: 'warn',
          node: p.node.name,
          peer,
          network: p.net.name,
          detail: `${p.sb.name} on ${p.node.name} has ${list.length} stale FDB entr${list.length === 1 ? 'y' : 'ies'} toward ${peer}${peer !== dst ? ` (${dst})` : ''}: ${listText(list.map(({ e, why }) => `${e.mac} (${why})`))}; a new task that reuses the address will be unreachable from ${p.node.name}`,
          remediation: `on ${p.node.name}: ${cmds.join('; ')}`,
        });
      }
      if (out.length === 0) {
        out.push({
          status: 'pass',
          node: p.node.name,
          network: p.net.name,
          detail: `${p.sb.name}: no stale FDB entries on ${dev}${a.unverified > 0 ? ` (${a.unverified} entr${a.unverified === 1 ? 'y' : 'ies'} toward uncollected nodes not verified)` : ''}`,
        });
      }
      return out;
    }),
);

// ---------------------------------------------------------------------------
// overlay.neigh.consistent

const neighConsistent = defineCheck(
  {
    id: 'overlay.neigh.consistent',
    layer: 'overlay',
    title: 'Neighbour entries of remote endpoints carry the right MAC',
    looksAt: 'ip neigh on vxlan0 in each overlay sandbox: every remote endpoint IP must resolve to its MAC (02:42:<ip>, or the MAC on the hosting node\'s interface)',
    remediation: 'On the node: nsenter --net=/var/run/docker/netns/<sandbox> ip neigh replace <ip> lladdr <mac> dev vxlan0 nud permanent',
  },
  (ctx) =>
    perSandbox(
      ctx,
      (p) => {
        const macs = expectedMacs(p.members, p.sb);
        const devs = vxlanDevs(p.sb);
        const dev = devOf(p);
        const missing: { m: Member; mac: string | null }[] = [];
        const wrong: { m: Member; mac: string; got: string }[] = [];
        let checked = 0;
        for (const m of p.members) {
          if (m.hostIp === p.addr) continue;
          const exp = macs.get(m.ip) ?? { mac: null, how: 'unknown' as const };
          const entries = p.sb.neighbours.filter((n) => n.dst === m.ip && devs.has(n.dev) && n.mac !== null);
          checked++;
          if (entries.length === 0) missing.push({ m, mac: exp.mac });
          else if (exp.mac !== null && (exp.how === 'node' || exp.how === 'derived')) {
            const bad = entries.find((n) => n.mac !== exp.mac);
            if (bad) wrong.push({ m, mac: exp.mac, got: bad.mac! });
          }
        }
        const owner = new Map(p.members.map((m) => [macs.get(m.ip)?.mac ?? '', m]));
        const out: FindingDraft[] = [];
        for (const [hostIp, list] of groupBy(wrong, (x) => x.m.hostIp)) {
          const peer = nodeLabel(p.t, hostIp);
          out.push({
            status: 'fail',
            node: p.node.name,
            peer,
            network: p.net.name,
            detail: `${p.sb.name} on ${p.node.name} resolves endpoints on ${peer} to the wrong MAC: ${listText(
              list.map((x) => {
                const o = owner.get(x.got);
                return `${x.m.ip} → ${x.got}${o ? ` (that is ${o.ip}, ${(o.what)})` : ''}, should be ${x.mac}`;
              }),
            )}; packets to them are addressed to another endpoint`,
            remediation: `on ${p.node.name}: ${list.map((x) => `${nsenter(p.node, p.sb.name)} ip neigh replace ${x.m.ip} lladdr ${x.mac} dev ${dev} nud permanent`).join('; ')}`,
          });
        }
        for (const [hostIp, list] of groupBy(missing, (x) => x.m.hostIp)) {
          const peer = nodeLabel(p.t, hostIp);
          out.push({
            status: 'warn',
            node: p.node.name,
            peer,
            network: p.net.name,
            detail: `${p.sb.name} on ${p.node.name} has no neighbour entry for ${list.length} endpoint(s) on ${peer}: ${listText(list.map((x) => memberText(x.m, x.mac)))}; docker programs them with the FDB, so gossip from ${peer} is likely incomplete`,
            remediation: `on ${p.node.name}: ${list.map((x) => `${nsenter(p.node, p.sb.name)} ip neigh replace ${x.m.ip} lladdr ${x.mac ?? derivedMac(x.m.ip) ?? '<mac>'} dev ${dev} nud permanent`).join('; ')}`,
          });
        }
        if (out.length === 0) out.push({ status: 'pass', node: p.node.name, network: p.net.name, detail: `${p.sb.name}: neighbour entries of all ${checked} remote endpoint(s) carry the right MAC` });
        return out;
      },
      { needAddr: true, sections: ['link', 'neigh'] },
    ),
);

// ---------------------------------------------------------------------------
// overlay.peers.consistent

const peersConsistent = defineCheck(
  {
    id: 'overlay.peers.consistent',
    layer: 'overlay',
    title: 'Network peer list matches the nodes hosting the network',
    looksAt: 'Peers of `docker network inspect --verbose` (the manager\'s gossip view) vs the nodes hosting endpoints or running tasks of each overlay network',
    remediation:
      'Check gossip (tcp+udp/7946) between the missing node and the others; docker service update --force <service> re-announces the node; if it stays out, systemctl restart docker on that node',
  },
  (ctx) => {
    const t = topology(ctx.snapshot);
    const out: FindingDraft[] = [];
    const manager = ctx.snapshot.cluster.managerNode;
    for (const net of overlayNetworks(ctx.snapshot)) {
      const hosting = hostingNodes(t, net);
      const peerIps = new Set(net.peers.map((p) => p.ip));
      if (net.peers.length === 0 && manager !== null && !hosting.has(manager)) {
        out.push({
          status: 'skip',
          network: net.name,
          detail: `the manager ${manager} has no task on ${net.name}, so it does not take part in its gossip and cannot list its peers`,
        });
        continue;
      }
      for (const [name, what] of [...hosting].sort(([a], [b]) => a.localeCompare(b))) {
        const ip = t.ipByName.get(name);
        if (!ip) continue;
        if (peerIps.has(ip)) {
          out.push({ status: 'pass', node: name, network: net.name, detail: `${name} (${ip}) is in the peer list of ${net.name}` });
        } else {
          out.push({
            status: 'fail',
            node: name,
            network: net.name,
            detail: `${name} (${ip}) hosts ${listText(what, 3)} on ${net.name} but is not in its peer list (${listText([...peerIps]) || 'empty'}): the other nodes do not learn its endpoints, so traffic to them fails`,
            remediation: `check tcp+udp/7946 between ${name} and the other nodes; then on ${name}: systemctl restart docker (or docker service update --force <service> to re-announce its tasks)`,
          });
        }
      }
      for (const p of net.peers) {
        if (t.nameByIp.has(p.ip)) continue;
        out.push({
          status: 'warn',
          peer: p.ip,
          network: net.name,
          detail: `peer ${p.name} (${p.ip}) of ${net.name} is no swarm node: a node that left or changed address is still in the network's gossip; updates are also sent to it`,
          remediation: `docker node ls to confirm; remove a departed node (docker node rm <node>); the entry ages out of gossip after the node is removed`,
        });
      }
    }
    return out;
  },
);

// ---------------------------------------------------------------------------
// overlay.datapath.*

const datapathReachable = defineCheck(
  {
    id: 'overlay.datapath.reachable',
    layer: 'overlay',
    title: 'Overlay data path works between every pair of nodes',
    looksAt: 'active probe: ping from a sandbox on one node to an endpoint of the same overlay network on another node (recorded probe results)',
    remediation: 'Allow udp/<data-path port> (4789 unless changed) both ways between the two nodes (host firewall, cloud security group), and check the MTU',
  },
  (ctx) => {
    const probes = ctx.probes;
    if (!probes) return [{ status: 'skip', detail: 'probes not run (--no-probe)' }];
    const port = ctx.snapshot.cluster.dataPathPort;
    const out: FindingDraft[] = probes.errors.map((e) => ({ status: 'skip' as const, node: e.node, detail: `probes could not run on ${e.node}: ${e.message}` }));
    if (probes.dataPath.length === 0) out.push({ status: 'skip', detail: 'no data-path probes were recorded (no overlay network spans two collected nodes?)' });
    for (const p of probes.dataPath) {
      const base = { node: p.from, peer: p.to, network: p.network };
      if (p.state === 'ok') {
        out.push({ ...base, status: 'pass', detail: `${p.from} → ${p.to} on ${p.network}: ${p.target} answered from ${p.sandbox}` });
      } else if (p.state === 'blocked') {
        out.push({
          ...base,
          status: 'fail',
          detail: `the VXLAN path ${p.from} → ${p.to} over udp/${port} is broken on ${p.network}: ${p.target} did not answer from ${p.sandbox}${p.detail ? ` (${p.detail})` : ''}`,
          remediation: `allow udp/${port} both ways between ${p.from} and ${p.to} (host firewall: iptables -I INPUT -p udp --dport ${port} -s <peer ip> -j ACCEPT; cloud security groups), check overlay.fdb.* for ${p.from}, and the MTU of the path`,
        });
      } else {
        out.push({
          ...base,
          status: 'warn',
          detail: `could not confirm the VXLAN path ${p.from} → ${p.to} on ${p.network}${p.detail ? `: ${p.detail}` : ''}`,
          remediation: `re-run with probes; by hand: docker exec into a task on ${p.from} and ping ${p.target}`,
        });
      }
    }
    return out;
  },
);

const datapathMtu = defineCheck(
  {
    id: 'overlay.datapath.mtu',
    layer: 'overlay',
    title: 'Full-size overlay packets cross the data path',
    looksAt: 'active probe: don\'t-fragment ping of the overlay MTU between sandboxes on two nodes (recorded probe results)',
    remediation: 'Lower the overlay MTU to the path MTU minus 50 (docker network create --opt com.docker.network.driver.mtu=<n>), or fix the underlay path MTU; make sure ICMP "fragmentation needed" is not filtered',
  },
  (ctx) => {
    const probes = ctx.probes;
    if (!probes) return [{ status: 'skip', detail: 'probes not run (--no-probe)' }];
    const out: FindingDraft[] = [];
    for (const p of probes.dataPath) {
      const base = { node: p.from, peer: p.to, network: p.network };
      if (p.state !== 'ok') {
        out.push({ ...base, status: 'skip', detail: `data path ${p.from} → ${p.to} not confirmed (see overlay.datapath.reachable)` });
      } else if (p.dfState === null) {
        out.push({ ...base, status: 'skip', detail: `full-size probe ${p.from} → ${p.to} was not run` });
      } else if (p.dfState === 'ok') {
        out.push({ ...base, status: 'pass', detail: `full-size DF ping ${p.from} → ${p.to} on ${p.network} went through` });
      } else if (p.dfState === 'blocked') {
        out.push({
          ...base,
          status: 'fail',
          detail: `small packets cross ${p.from} → ${p.to} on ${p.network} but full-size (overlay MTU, don't fragment) ones do not: MTU problem on the path; connections hang once data flows`,
          remediation: `find the path MTU between ${p.from} and ${p.to} (ping -M do -s <size> <peer ip>); lower the overlay MTU to it minus 50 (docker network create --opt com.docker.network.driver.mtu=<n>) or fix the underlay; do not filter ICMP type 3 code 4`,
        });
      } else {
        out.push({ ...base, status: 'warn', detail: `could not confirm full-size packets ${p.from} → ${p.to} on ${p.network}${p.detail ? `: ${p.detail}` : ''}` });
      }
    }
    if (out.length === 0) out.push({ status: 'skip', detail: 'no data-path probes were recorded' });
    return out;
  },
);

export const overlayChecks: readonly Check[] = [
  sandboxMissing,
  vxlanConfig,
  mtuConsistent,
  fdbMissing,
  fdbWrongDst,
  fdbStale,
  neighConsistent,
  peersConsistent,
  datapathReachable,
  datapathMtu,
];
