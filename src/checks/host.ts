/**
 * Host checks: one node at a time, what the node itself must provide for
 * swarm networking — collected at all, dockerd running in the host's mount
 * namespace, kernel modules, forwarding sysctls, one iptables backend, a
 * firewall that lets the swarm ports through, the swarm sockets listening,
 * NIC offloads known to break VXLAN, and clocks in step.
 *
 * Every check reports per node: `pass` with what was verified, `skip` with
 * why it could not look (a node that could not be collected is skipped here
 * and fails once, in host.node.reachable).
 */
import { parseIptablesSave, type IptablesDump } from '../parse/iptables.js';
import { unavailable } from '../parse/host.js';
import { describeOutcome, evaluate, firewallDumps, type Evaluation, type Packet, type Root } from '../model/firewall.js';
import {
  interfaceWithAddress,
  isDockerInterface,
  isManager,
  listText,
  perNode,
  plural,
  routeDevice,
  summaryOf,
  type CollectedNode,
} from '../model/nodes.js';
import { cidrContainsIp, isLoopback, networkOf } from '../net/ip.js';
import { defineCheck, type Check, type FindingDraft } from './legacy.js';

// ---------------------------------------------------------------------------
// sysctls

function sysctlValue(n: CollectedNode, key: string): { value: string | null } | { skip: string } {
  if (!n.raw['host/sysctl'] || n.raw['host/sysctl'].rc !== 0) return { skip: `sysctls not collected: ${unavailable(n.raw['host/sysctl'], 'sysctl read').reason}` };
  const v = n.host.sysctls[key];
  return { value: v === undefined || v === null ? null : v.trim() };
}

const persistSysctl = (n: string, key: string, value: string) =>
  `On ${n}: \`sysctl -w ${key}=${value}\` and persist it: \`echo '${key} = ${value}' > /etc/sysctl.d/90-swarm.conf\` (and look for a file in /etc/sysctl.d or /etc/sysctl.conf that sets it otherwise).`;

const ipForward = defineCheck(
  {
    id: 'host.sysctl.ip-forward',
    layer: 'host',
    title: 'IPv4 forwarding enabled',
    looksAt: 'net.ipv4.ip_forward on each node (Docker sets it to 1 at start; something that resets it later breaks published ports and container egress).',
    remediation: '`sysctl -w net.ipv4.ip_forward=1` and persist it in /etc/sysctl.d/.',
  },
  ({ snapshot }) =>
    perNode(snapshot, (n) => {
      const r = sysctlValue(n, 'net/ipv4/ip_forward');
      if ('skip' in r) return [{ status: 'skip', node: n.name, detail: r.skip }];
      if (r.value === null) return [{ status: 'skip', node: n.name, detail: 'net.ipv4.ip_forward could not be read' }];
      if (r.value === '1') return [{ status: 'pass', node: n.name, detail: 'net.ipv4.ip_forward = 1' }];
      return [
        {
          status: 'fail',
          node: n.name,
          detail: `net.ipv4.ip_forward = ${r.value} on ${n.name}: the node does not route between docker_gwbridge and the underlay, so published ports and container traffic leaving the host fail (Docker sets it to 1 at start; a later \`sysctl --system\` or a tuning profile reset it).`,
          remediation: persistSysctl(n.name, 'net.ipv4.ip_forward', '1'),
        },
      ];
    }),
);

const bridgeNf = defineCheck(
  {
    id: 'host.sysctl.bridge-nf',
    layer: 'host',
    title: 'Bridged traffic passes iptables',
    looksAt: 'net.bridge.bridge-nf-call-iptables (and -ip6tables) when br_netfilter provides them.',
    remediation: '`sysctl -w net.bridge.bridge-nf-call-iptables=1` and persist it in /etc/sysctl.d/.',
  },
  ({ snapshot }) =>
    perNode(snapshot, (n) => {
      const r = sysctlValue(n, 'net/bridge/bridge-nf-call-iptables');
      if ('skip' in r) return [{ status: 'skip', node: n.name, detail: r.skip }];
      if (r.value === null) {
        return [{ status: 'pass', node: n.name, detail: 'net.bridge.bridge-nf-call-iptables does not exist (br_netfilter not loaded, see host.kernel.modules); nothing to compare' }];
      }
      const v6 = n.host.sysctls['net/bridge/bridge-nf-call-ip6tables'];
      if (r.value === '1') return [{ status: 'pass', node: n.name, detail: `net.bridge.bridge-nf-call-iptables = 1${v6 ? `, -ip6tables = ${v6}` : ''}` }];
      return [
        {
          status: 'warn',
          node: n.name,
          detail: `net.bridge.bridge-nf-call-iptables = ${r.value} on ${n.name}: traffic between containers on one bridge skips iptables, so Docker's isolation rules and hairpin NAT to published ports do not apply to it.`,
          remediation: persistSysctl(n.name, 'net.bridge.bridge-nf-call-iptables', '1'),
        },
      ];
    }),
);

const rpFilter = defineCheck(
  {
    id: 'host.sysctl.rp-filter',
    layer: 'host',
    title: 'Reverse-path filtering not strict',
    looksAt: 'net.ipv4.conf.all.rp_filter and conf.default.rp_filter (the kernel uses the larger of `all` and the interface\'s own value).',
    remediation: 'Use loose mode: `sysctl -w net.ipv4.conf.all.rp_filter=2` (and default), persisted in /etc/sysctl.d/.',
  },
  ({ snapshot }) =>
    perNode(snapshot, (n) => {
      const all = sysctlValue(n, 'net/ipv4/conf/all/rp_filter');
      if ('skip' in all) return [{ status: 'skip', node: n.name, detail: all.skip }];
      const def = n.host.sysctls['net/ipv4/conf/default/rp_filter'] ?? null;
      if (all.value === null) return [{ status: 'skip', node: n.name, detail: 'net.ipv4.conf.all.rp_filter could not be read' }];
      const underlayIfs = n.host.interfaces.filter(
        (i) => i.name !== 'lo' && !isDockerInterface(i.name) && i.addresses.some((a) => a.family === 'inet' && !isLoopback(a.address)),
      );
      if (all.value !== '1') {
        return [{ status: 'pass', node: n.name, detail: `rp_filter: all = ${all.value}, default = ${def ?? '?'} (not strict everywhere)` }];
      }
      const multi = underlayIfs.length > 1;
      return [
        {
          status: 'warn',
          node: n.name,
          detail: `net.ipv4.conf.all.rp_filter = 1 (strict) on ${n.name}${def !== null ? `, default = ${def}` : ''}: every interface drops packets whose source it would not route back through the same interface; ${
            multi
              ? `${n.name} has ${underlayIfs.length} addressed interfaces (${underlayIfs.map((i) => i.name).join(', ')}), so VXLAN or published-port traffic arriving on one and answered via another is dropped silently`
              : 'harmless while the node has a single underlay interface, but it drops overlay and routing-mesh traffic as soon as routes become asymmetric (a second NIC, a VPN, policy routing)'
          }.`,
          remediation: `On ${n.name}: \`sysctl -w net.ipv4.conf.all.rp_filter=2 net.ipv4.conf.default.rp_filter=2\` (loose) and persist both in /etc/sysctl.d/90-swarm.conf.`,
        },
      ];
    }),
);

// ---------------------------------------------------------------------------
// host.iptables.backend-mixed

const backendMixed = defineCheck(
  {
    id: 'host.iptables.backend-mixed',
    layer: 'host',
    title: 'One iptables backend',
    looksAt: 'Which backends (iptables-legacy-save, iptables-nft-save) hold Docker chains, and which backend `iptables` itself uses.',
    remediation:
      'Pick one backend (`update-alternatives --config iptables` and ip6tables), clear Docker\'s rules from the other, then `systemctl restart docker`.',
  },
  ({ snapshot }) =>
    perNode(snapshot, (n) => {
      const ipt = n.host.iptables;
      const inn = ipt.dockerRulesIn;
      if (inn.length === 2) {
        const other = ipt.defaultBackend === 'nft' ? 'legacy' : 'nft';
        return [
          {
            status: 'fail',
            node: n.name,
            detail: `Docker chains exist in both iptables-legacy and iptables-nft on ${n.name} (\`iptables\` uses ${ipt.defaultBackend}${ipt.version ? `: ${ipt.version}` : ''}): the kernel runs both rule sets, so stale rules in one backend can drop what Docker programs in the other, and firewall changes made with one tool miss the other.`,
            remediation: `On ${n.name}: choose one backend for iptables and ip6tables (\`update-alternatives --set iptables /usr/sbin/iptables-${ipt.defaultBackend === 'unknown' ? 'nft' : ipt.defaultBackend}\`, same for ip6tables), review and flush the ${other} tables (\`iptables-${other}-save\`, then \`iptables-${other} -F && iptables-${other} -t nat -F && iptables-${other} -X && iptables-${other} -t nat -X\`), then \`systemctl restart docker\`.`,
          },
        ];
      }
      if (inn.length === 0) {
        if (!n.host.dockerd.running) return [{ status: 'skip', node: n.name, detail: 'dockerd is not running (see host.dockerd.running)' }];
        const s = n.raw['host/iptables-save'];
        if (!s || s.rc !== 0) return [{ status: 'skip', node: n.name, detail: `iptables not readable: ${unavailable(s, 'iptables-save').reason}` }];
        return [
          {
            status: 'warn',
            node: n.name,
            detail: `no Docker chains in either iptables backend on ${n.name} although dockerd runs: with --iptables=false (or "iptables": false in daemon.json) published ports and the routing mesh are not programmed.`,
            remediation: `On ${n.name}: remove "iptables": false from /etc/docker/daemon.json (or --iptables=false from dockerd's command line) and \`systemctl restart docker\`.`,
          },
        ];
      }
      const docker = inn[0]!;
      if (ipt.defaultBackend !== 'unknown' && ipt.defaultBackend !== docker) {
        return [
          {
            status: 'warn',
            node: n.name,
            detail: `Docker's chains are in iptables-${docker} but \`iptables\` on ${n.name} uses ${ipt.defaultBackend}: rules added with \`iptables\` (your firewall, DOCKER-USER) land in a different rule set than Docker's.`,
            remediation: `On ${n.name}: \`update-alternatives --set iptables /usr/sbin/iptables-${docker}\` (and ip6tables), or switch Docker to ${ipt.defaultBackend} by restarting it with that alternative selected.`,
          },
        ];
      }
      return [{ status: 'pass', node: n.name, detail: `Docker chains only in iptables-${docker}; \`iptables\` uses ${ipt.defaultBackend}` }];
    }),
);

// ---------------------------------------------------------------------------
// host.firewall.ports

interface Flow {
  label: string;
  proto: Packet['proto'];
  port: number | null;
  sport: number | null;
  /** Peers that send this to the node (INPUT) and that the node sends it to (OUTPUT). */
  from: Peer[];
  to: Peer[];
}

interface Peer {
  name: string;
  address: string | null;
}


function allowCommand(root: Root, flow: Flow, peers: Peer[], self: string | null, host: CollectedNode['host']): string {
  const addrs = peers.map((p) => p.address).filter((a): a is string => a !== null);
  let net: string | null = null;
  if (addrs.length === 1) net = addrs[0]!;
  else if (self) {
    const iface = host.interfaces.flatMap((i) => i.addresses).find((a) => a.address === self);
    const cidr = iface ? networkOf(iface.address, iface.prefixLen) : null;
    if (cidr && addrs.every((a) => cidrContainsIp(cidr.text, a) === true)) net = cidr.text;
  }
  const proto = flow.proto === 'esp' ? '-p esp' : `-p ${flow.proto} --dport ${flow.port}`;
  const who = net ? ` ${root === 'INPUT' ? '-s' : '-d'} ${net}` : '';
  return `iptables -I ${root}${who} ${proto} -j ACCEPT`;
}

const firewallPorts = defineCheck(
  {
    id: 'host.firewall.ports',
    layer: 'host',
    title: 'Firewall lets swarm traffic through',
    looksAt:
      'The filter table of iptables-save (and of the other backend when it holds rules), evaluated in order — jumps, RETURN, goto and chain policies — for a new flow between this node and each peer\'s advertise address: tcp/2377 into managers and out to managers, tcp+udp/7946 and udp/<data-path port> both ways, ESP when an overlay is encrypted. Docker\'s own drop rules (the encrypted-overlay guard) are ignored. FORWARD/DOCKER-USER are not on this path; native nftables rulesets are not collected.',
    remediation: 'Allow the swarm ports between the nodes before the rule that drops them, and persist it in the firewall\'s own configuration (ufw allow, firewall-cmd --permanent, /etc/iptables/rules.v4).',
  },
  ({ snapshot }) => {
    const c = snapshot.cluster;
    const encrypted = c.networks.filter((x) => x.encrypted);
    return perNode(snapshot, (n) => {
      const dumps = firewallDumps(n);
      if ('skip' in dumps) return [{ status: 'skip', node: n.name, detail: dumps.skip }];
      const me = summaryOf(snapshot, n);
      const self = me?.advertiseAddress ?? null;
      const others: Peer[] = c.nodes.filter((s) => s.id !== me?.id && s.name !== n.name).map((s) => ({ name: s.name, address: s.advertiseAddress }));
      const managers = c.nodes.filter((s) => s.role === 'manager' && s.id !== me?.id && s.name !== n.name).map((s) => ({ name: s.name, address: s.advertiseAddress }));
      const flows: Flow[] = [
        { label: 'tcp/2377 (swarm control plane)', proto: 'tcp', port: 2377, sport: null, from: isManager(snapshot, n) ? others : [], to: managers },
        { label: 'tcp/7946 (gossip)', proto: 'tcp', port: 7946, sport: null, from: others, to: others },
        { label: 'udp/7946 (gossip)', proto: 'udp', port: 7946, sport: 7946, from: others, to: others },
        { label: `udp/${c.dataPathPort} (VXLAN data path)`, proto: 'udp', port: c.dataPathPort, sport: null, from: others, to: others },
        ...(encrypted.length > 0 ? [{ label: `ESP (encrypted overlay ${listText(encrypted.map((x) => x.name))})`, proto: 'esp' as const, port: null, sport: null, from: others, to: others }] : []),
      ];
      const out: FindingDraft[] = [];
      let checked = 0;
      for (const { label: dumpLabel, dump } of dumps) {
        for (const flow of flows) {
          for (const root of ['INPUT', 'OUTPUT'] as const) {
            const peers = root === 'INPUT' ? flow.from : flow.to;
            // Group peers by what happens to their traffic.
            const groups = new Map<string, { ev: Evaluation; peers: Peer[] }>();
            for (const peer of peers) {
              checked++;
              const dev = (peer.address ? routeDevice(n.host, peer.address) : null) ?? (self ? interfaceWithAddress(n.host, self) : null);
              const pkt: Packet = {
                proto: flow.proto,
                dport: flow.port,
                sport: flow.sport,
                src: root === 'INPUT' ? peer.address : self,
                dst: root === 'INPUT' ? self : peer.address,
                iface: dev,
              };
              const ev = evaluate(dump, root, pkt);
              if (ev.result === 'accepted') continue;
              const key = `${ev.result}|${ev.drops.map((d) => describeOutcome(d, root)).join('|')}`;
              const g = groups.get(key);
              if (g) g.peers.push(peer);
              else groups.set(key, { ev, peers: [peer] });
            }
            for (const { ev, peers: hit } of groups.values()) {
              const names = listText(hit.map((p) => p.name));
              const dir = root === 'INPUT' ? `from ${names} into ${n.name}` : `from ${n.name} to ${names}`;
              const how = [...new Set(ev.drops.map((d) => describeOutcome(d, root)))];
              const cmd = allowCommand(root, flow, hit, self, n.host);
              out.push({
                status: ev.result === 'dropped' ? 'fail' : 'warn',
                node: n.name,
                peer: hit.length === 1 ? hit[0]!.name : null,
                detail:
                  ev.result === 'dropped'
                    ? `${flow.label} ${dir} ${how.join('; ')} (${root}, ${dumpLabel}).`
                    : `${flow.label} ${dir} may be dropped: it ${how.join('; or it ')} (${root}, ${dumpLabel}); the rest of the rule set accepts it.`,
                remediation: `On ${n.name}: allow it ahead of the drop, e.g. \`${cmd}\`, and persist that in the firewall's configuration (ufw allow / firewall-cmd --permanent --add-port / /etc/iptables/rules.v4).`,
              });
            }
          }
        }
      }
      if (out.length === 0) {
        const what = flows.filter((f) => f.from.length + f.to.length > 0).map((f) => f.label.split(' ')[0] ?? f.label);
        return [
          {
            status: 'pass',
            node: n.name,
            detail:
              checked === 0
                ? 'no peers to exchange swarm traffic with'
                : `INPUT/OUTPUT let ${listText(what)} through to and from ${plural(others.length, 'peer')} (${dumps.map((d) => d.label).join(', ')})`,
          },
        ];
      }
      return out;
    });
  },
);

// ---------------------------------------------------------------------------
// host.listen.ports

const WILDCARD = new Set(['*', '0.0.0.0', '::', '']);

const listenPorts = defineCheck(
  {
    id: 'host.listen.ports',
    layer: 'host',
    title: 'Swarm ports listening',
    looksAt: '`ss -tulnp` for tcp/2377 on managers, tcp+udp/7946 on every node, and the VXLAN socket on udp/<data-path port>, and the addresses they are bound to.',
    remediation: 'Restart dockerd on the node; check --listen-addr / --advertise-addr of the swarm join.',
  },
  ({ snapshot }) => {
    const dp = snapshot.cluster.dataPathPort;
    return perNode(snapshot, (n) => {
      const l = n.host.listening;
      if ('unavailable' in l) return [{ status: 'skip', node: n.name, detail: `listening sockets not collected: ${l.reason}` }];
      if (!n.host.dockerd.running) return [{ status: 'skip', node: n.name, detail: 'dockerd is not running (see host.dockerd.running)' }];
      const self = summaryOf(snapshot, n)?.advertiseAddress ?? null;
      const manager = isManager(snapshot, n);
      const hasVxlan = n.sandboxes.some((s) => s.links.some((x) => x.kind === 'vxlan'));
      const want = [
        ...(manager ? [{ proto: 'tcp', port: 2377, why: 'the swarm control plane (managers)' }] : []),
        { proto: 'tcp', port: 7946, why: 'gossip (node discovery, network state)' },
        { proto: 'udp', port: 7946, why: 'gossip (node discovery, network state)' },
        { proto: 'udp', port: dp, why: 'the VXLAN data path' },
      ];
      const out: FindingDraft[] = [];
      const good: string[] = [];
      for (const w of want) {
        const label = `${w.proto}/${w.port}`;
        const socks = l.filter((s) => s.proto.startsWith(w.proto) && s.port === w.port);
        if (socks.length === 0) {
          if (w.port === dp && w.proto === 'udp' && !hasVxlan) {
            good.push(`${label} (no VXLAN socket yet: no overlay sandbox with a vxlan device on ${n.name})`);
            continue;
          }
          out.push({
            status: 'fail',
            node: n.name,
            detail: `nothing listens on ${label} on ${n.name}: ${w.why} cannot reach this node.`,
            remediation:
              w.port === dp
                ? `On ${n.name}: check that the overlay sandboxes have their vxlan device (\`docker network inspect\`, overlay checks) and that no other program holds udp/${dp}; restart dockerd (\`systemctl restart docker\`).`
                : `On ${n.name}: \`systemctl restart docker\` and check \`docker info --format '{{.Swarm.LocalNodeState}}'\` is active; if it is not, rejoin the swarm.`,
          });
          continue;
        }
        const addrs = socks.map((s) => s.address);
        if (addrs.some((a) => WILDCARD.has(a) || (self !== null && a === self))) {
          good.push(label);
          continue;
        }
        if (addrs.every((a) => isLoopback(a))) {
          out.push({
            status: 'fail',
            node: n.name,
            detail: `${label} listens only on ${addrs.join(', ')} on ${n.name}: other nodes cannot reach ${w.why}.`,
            remediation: `On ${n.name}: the swarm was joined with a loopback --listen-addr; leave and rejoin with \`docker swarm join --listen-addr 0.0.0.0:2377 --advertise-addr <underlay IP> …\`.`,
          });
          continue;
        }
        out.push({
          status: 'warn',
          node: n.name,
          detail: `${label} listens on ${addrs.join(', ')} on ${n.name}, not on its advertise address ${self ?? '(unknown)'} or all addresses: peers connecting to ${self ?? 'the advertise address'} are refused.`,
          remediation: `On ${n.name}: make --listen-addr match the advertise address (rejoin with \`--listen-addr ${self ?? '<underlay IP>'}:2377 --advertise-addr ${self ?? '<underlay IP>'}\`).`,
        });
      }
      if (out.length === 0) return [{ status: 'pass', node: n.name, detail: `listening: ${good.join(', ')}` }];
      return out;
    });
  },
);

// ---------------------------------------------------------------------------
// host.offload.vxlan-checksum

const offloadVxlan = defineCheck(
  {
    id: 'host.offload.vxlan-checksum',
    layer: 'host',
    title: 'NIC offloads safe for VXLAN',
    looksAt: '`ethtool -k` of each physical NIC: vmxnet3 (VMware) with tx-checksum-ip-generic on is known to send VXLAN packets with bad inner checksums.',
    remediation: '`ethtool -K <if> tx-checksum-ip-generic off` on the node, persisted in the network configuration.',
  },
  ({ snapshot }) => {
    const dp = snapshot.cluster.dataPathPort;
    return perNode(snapshot, (n) => {
      const o = n.host.offload;
      if ('unavailable' in o) return [{ status: 'skip', node: n.name, detail: `NIC offloads not collected: ${o.reason}` }];
      const nics = Object.entries(o);
      if (nics.length === 0) return [{ status: 'pass', node: n.name, detail: 'no physical NICs (ethtool saw only virtual interfaces)' }];
      const self = summaryOf(snapshot, n)?.advertiseAddress ?? null;
      const underlay = self ? interfaceWithAddress(n.host, self) : null;
      const out: FindingDraft[] = [];
      for (const [ifname, { driver, features }] of nics) {
        // tx-checksum-ip-generic is the one that matters; tx-checksumming (its parent) when only that was read.
        const feature = features['tx-checksum-ip-generic'] !== undefined ? 'tx-checksum-ip-generic' : 'tx-checksumming';
        const v = features[feature];
        if (driver !== 'vmxnet3' || v === undefined || !v.startsWith('on')) continue;
        const fixed = v.includes('[fixed]');
        out.push({
          status: 'warn',
          node: n.name,
          detail: `${ifname} on ${n.name} (vmxnet3${ifname === underlay ? `, carries the advertise address ${self}` : ''}) has ${feature} ${v}: vmxnet3 checksum offload is known to corrupt VXLAN-encapsulated packets, so overlay TCP stalls or fails while small pings get through${
            dp === 4789 ? '; on VMware NSX hosts udp/4789 is also NSX\'s own VXLAN port' : ''
          }.`,
          remediation: fixed
            ? `On ${n.name}: the feature is fixed on in the driver; update VMware Tools/ESXi${dp === 4789 ? ', or re-create the swarm with `docker swarm init --data-path-port 4800`' : ''}.`
            : `On ${n.name}: \`ethtool -K ${ifname} tx-checksum-ip-generic off\` and persist it (a NetworkManager dispatcher, networkd .link file or udev rule)${dp === 4789 ? '; on NSX also consider `--data-path-port`' : ''}.`,
        });
      }
      if (out.length > 0) return out;
      return [{ status: 'pass', node: n.name, detail: `${plural(nics.length, 'NIC')} checked (${nics.map(([i, x]) => `${i}: ${x.driver ?? 'unknown driver'}`).join(', ')})` }];
    });
  },
);

// ---------------------------------------------------------------------------
// host.clock.skew

/** Seconds. Warn: clocks are not being kept in step. Fail: half of swarmkit's 1 h certificate backdate. */
export const CLOCK_WARN_S = 5;
export const CLOCK_FAIL_S = 30 * 60;

const fmtS = (s: number): string => (Math.abs(s) >= 120 ? `${(s / 60).toFixed(1)} min` : `${s.toFixed(1)} s`);

const clockSkew = defineCheck(
  {
    id: 'host.clock.skew',
    layer: 'host',
    title: 'Node clocks in step',
    looksAt: `Each node's clock (date at collection) against the time netdoctor received it, compared across nodes: a node more than ${CLOCK_WARN_S} s from the nodes' median warns (time sync is not working: logs cannot be correlated and the drift grows), more than ${CLOCK_FAIL_S / 60} min fails (swarm TLS certificates are backdated 1 h: beyond that, certificates fresh from a manager are "not yet valid" on a lagging node). The collection time of each node is allowed as error.`,
    remediation: 'Enable time synchronisation on the node (`timedatectl set-ntp true`, chrony or systemd-timesyncd) and check it (`chronyc tracking` / `timedatectl timesync-status`).',
  },
  ({ snapshot }) => {
    const clocks = snapshot.nodes
      .filter((n): n is CollectedNode => n.host !== null && n.host.clock !== null)
      .map((n) => ({ n, offset: n.host.clock!.node - n.host.clock!.localReceived, err: (n.timings.execMs ?? n.timings.totalMs) / 1000 }));
    const sorted = clocks.map((c) => c.offset).sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    const median = sorted.length === 0 ? 0 : sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
    return perNode(snapshot, (n) => {
      const me = clocks.find((c) => c.n === n);
      if (!me) return [{ status: 'skip', node: n.name, detail: `clock not collected: ${unavailable(n.raw['host/clock'], 'date').reason}` }];
      if (clocks.length < 2) return [{ status: 'skip', node: n.name, detail: 'only one node\'s clock was collected: nothing to compare it with' }];
      const dev = me.offset - median;
      const margin = me.err;
      const skew = Math.abs(dev) - margin;
      // The peer it disagrees with most.
      const far = clocks.filter((c) => c !== me).reduce((a, b) => (Math.abs(b.offset - me.offset) > Math.abs(a.offset - me.offset) ? b : a));
      const rel = `${fmtS(Math.abs(dev))} ${dev > 0 ? 'ahead of' : 'behind'} the nodes' median (${fmtS(Math.abs(far.offset - me.offset))} ${far.offset > me.offset ? 'behind' : 'ahead of'} ${far.n.name}; measurement error up to ${fmtS(margin)})`;
      if (skew > CLOCK_FAIL_S) {
        return [
          {
            status: 'fail',
            node: n.name,
            peer: far.n.name,
            detail: `${n.name}'s clock is ${rel}: beyond ${CLOCK_FAIL_S / 60} min the 1 h backdate of swarm TLS certificates is nearly used up; certificate renewal and joins fail with "certificate is not yet valid" or "expired".`,
            remediation: `On ${n.name}: set the time (\`chronyc makestep\` or \`timedatectl set-ntp true\`) and keep it synchronised; then check \`docker node ls\` on a manager.`,
          },
        ];
      }
      if (skew > CLOCK_WARN_S) {
        return [
          {
            status: 'warn',
            node: n.name,
            peer: far.n.name,
            detail: `${n.name}'s clock is ${rel}: time synchronisation is not keeping it in step (logs across nodes no longer line up, and the drift grows toward swarm's 1 h TLS margin).`,
            remediation: `On ${n.name}: \`timedatectl set-ntp true\` (or enable chrony/systemd-timesyncd) and check \`timedatectl timesync-status\`.`,
          },
        ];
      }
      return [{ status: 'pass', node: n.name, detail: `clock within ${CLOCK_WARN_S} s of the other nodes (${dev >= 0 ? '+' : '-'}${fmtS(Math.abs(dev))} from the median)` }];
    });
  },
);

export const hostChecks: readonly Check[] = [
  ipForward,
  bridgeNf,
  rpFilter,
  backendMixed,
  firewallPorts,
  listenPorts,
  offloadVxlan,
  clockSkew,
];
