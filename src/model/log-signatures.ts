/**
 * The log signature catalogue: data, one entry per kind of dockerd or kernel
 * log line that names a cause (../shared/FAILURES.md's log table). Matching
 * is by plain substrings (`all` in order, any one of `any`, none of `not`),
 * so it is linear in the line whatever a node prints; no regular expression
 * runs on node output. `peer` / `network` / `value` say where in the line
 * the peer, the network or a number is (the token after a marker).
 */

export type LogSource = 'dockerd' | 'kernel';

/** What a token after a marker names. */
export type TokenKind =
  /** a memberlist member name (`<hostname>-<12 hex>` or `<12 hex>`), mapped to a node through join events and hostnames */
  | 'member'
  /** an underlay address, possibly with `:port` (mapped to a node by its advertise address) */
  | 'addr'
  /** a swarm network id (full or prefix), mapped to the network's name */
  | 'network'
  /** shown as is (an overlay address, a subnet) */
  | 'text';

export interface Extract {
  /** Markers tried in order; the token starts right after the first one present. */
  after: readonly string[];
  kind: TokenKind;
}

export interface LogSignature {
  /** Stable key, also the message id of the finding. */
  key: string;
  source: LogSource;
  /** Substrings that must all appear, in this order. */
  all: readonly string[];
  /** When given, at least one of these must appear too. */
  any?: readonly string[];
  /** The line does not match when any of these appears. */
  not?: readonly string[];
  /** The check that reports it (layer `log`). */
  check: string;
  severity: 'warn' | 'fail';
  /** What the node did, as a verb phrase after the node's name ("suspected {peer}"). */
  says: string;
  /** What it means. */
  meaning: string;
  remediation: string;
  peer?: Extract;
  network?: Extract;
  /** A number after a marker; the line only counts when it is at least `min`. */
  value?: { after: string; min: number };
  /** Only reported from this many lines on (join/leave storms); 1 by default. */
  threshold?: number;
  /** FAILURES.md rows this signature is evidence for. */
  rows: readonly number[];
}

const GOSSIP_FIX =
  'allow udp/7946 and tcp/7946 between every pair of nodes (host firewall, security groups); check the nodes are not overloaded (CPU steal, packet-rate caps)';

export const LOG_SIGNATURES: readonly LogSignature[] = [
  {
    key: 'udpProbesFailed',
    source: 'dockerd',
    all: ['memberlist: Was able to connect to '],
    any: ['but other probes failed', 'over TCP but UDP probes failed'],
    check: 'log.gossip.udp-blocked',
    severity: 'fail',
    says: 'reached {peer} over TCP but not over UDP',
    meaning: 'udp/7946 is blocked while tcp/7946 works',
    remediation: 'allow udp/7946 between the two nodes in every firewall on the path',
    peer: { after: ['Was able to connect to '], kind: 'member' },
    rows: [1, 8],
  },
  {
    key: 'suspect',
    source: 'dockerd',
    all: ['memberlist: Suspect ', ' has failed, no acks received'],
    check: 'log.gossip.flapping',
    severity: 'warn',
    says: 'suspected {peer}',
    meaning: 'gossip probes to the peer went unanswered (packet loss, blocked udp/7946 or an overloaded node)',
    remediation: GOSSIP_FIX,
    peer: { after: ['memberlist: Suspect '], kind: 'member' },
    rows: [8],
  },
  {
    key: 'markedFailed',
    source: 'dockerd',
    all: ['memberlist: Marking ', ' as failed, suspect timeout reached'],
    check: 'log.gossip.flapping',
    severity: 'fail',
    says: 'marked {peer} as failed',
    meaning: 'the peer was dropped from gossip: its network state is withdrawn until it rejoins',
    remediation: GOSSIP_FIX,
    peer: { after: ['memberlist: Marking '], kind: 'member' },
    rows: [8],
  },
  {
    key: 'refuted',
    source: 'dockerd',
    all: ['memberlist: Refuting a suspect message'],
    check: 'log.gossip.flapping',
    severity: 'warn',
    says: 'was suspected by {peer} and refuted it',
    meaning: 'other nodes cannot reach this one reliably over gossip',
    remediation: GOSSIP_FIX,
    peer: { after: ['(from: '], kind: 'member' },
    rows: [8],
  },
  {
    key: 'fallbackPing',
    source: 'dockerd',
    all: ['memberlist: Failed '],
    any: ['Failed fallback ping', 'Failed TCP fallback ping'],
    check: 'log.gossip.tcp-fallback',
    severity: 'fail',
    says: 'failed the TCP fallback ping to {peer}',
    meaning: 'tcp/7946 fails too: the peer is unreachable for gossip altogether',
    remediation: 'allow tcp/7946 and udp/7946 between the two nodes; check the peer is up and dockerd runs',
    peer: { after: ['->'], kind: 'addr' },
    rows: [1, 8],
  },
  {
    key: 'healthScore',
    source: 'dockerd',
    all: ['NetworkDB stats', 'healthscore:'],
    check: 'log.gossip.health',
    severity: 'warn',
    says: 'reported a degraded memberlist health score',
    meaning: 'memberlist reports missed probes or slow processing (healthscore > 0)',
    remediation: GOSSIP_FIX,
    value: { after: 'healthscore:', min: 1 },
    rows: [7, 8],
  },
  {
    key: 'bulkSyncTimeout',
    source: 'dockerd',
    all: ['Bulk sync to node ', ' timed out'],
    check: 'log.gossip.bulk-sync',
    severity: 'warn',
    says: 'timed out bulk-syncing to {peer}',
    meaning: 'NetworkDB bulk sync did not complete: containers and DNS of the peer appear late (slow or blocked tcp/7946)',
    remediation: 'allow tcp/7946 between the nodes and check its latency; upgrade the engine (bulk-sync ack race fixed in 24+)',
    peer: { after: ['Bulk sync to node '], kind: 'member' },
    rows: [9],
  },
  {
    key: 'nodeLeave',
    source: 'dockerd',
    all: ['Node leave event for '],
    check: 'log.gossip.membership',
    severity: 'warn',
    says: 'saw {peer} leave the gossip cluster',
    meaning: 'repeated leave events: the member is flapping',
    remediation: GOSSIP_FIX,
    peer: { after: ['Node leave event for '], kind: 'member' },
    threshold: 3,
    rows: [8],
  },
  {
    key: 'nodeJoin',
    source: 'dockerd',
    all: ['Node join event for '],
    check: 'log.gossip.membership',
    severity: 'warn',
    says: 'saw {peer} join the gossip cluster',
    meaning: 'repeated join events: the member is flapping',
    remediation: GOSSIP_FIX,
    peer: { after: ['Node join event for '], kind: 'member' },
    threshold: 3,
    rows: [8],
  },
  {
    key: 'resolvePeer',
    source: 'dockerd',
    all: ['could not resolve peer '],
    check: 'log.peerdb.resolve',
    severity: 'fail',
    says: 'could not resolve overlay peer {subject}',
    meaning: 'NetworkDB has no entry for a destination: gossip has not converged on this node',
    remediation:
      'compare `docker network inspect --verbose <network>` across nodes; fix gossip (tcp+udp/7946), then `docker service update --force <service>`',
    peer: { after: ['could not resolve peer \\"', 'could not resolve peer "', 'could not resolve peer '], kind: 'text' },
    rows: [7],
  },
  {
    key: 'peerDelete',
    source: 'dockerd',
    all: [],
    any: ['Peer delete operation failed', 'Peer entry was not in db', 'could not delete fdb entry'],
    check: 'log.peerdb.fdb-sync',
    severity: 'warn',
    says: 'failed to delete an overlay peer',
    meaning: 'the peer DB and the kernel FDB are out of sync: a stale FDB entry is likely',
    remediation:
      "compare `bridge fdb show dev vxlan0` in the network sandbox with the tasks' hosts; `docker service update --force <service>` re-programs them",
    network: { after: ['nid:', 'netID:'], kind: 'network' },
    rows: [5],
  },
  {
    key: 'neighborPresent',
    source: 'dockerd',
    all: ['Neighbor entry already present'],
    check: 'log.peerdb.fdb-sync',
    severity: 'warn',
    says: 'could not write a permanent neighbour/FDB entry (already present)',
    meaning: 'a learned entry blocked the permanent one: the remote endpoint works only while traffic flows',
    remediation:
      'flush the dynamic entry (`bridge fdb del <mac> dev vxlan0` in the network sandbox) or `docker service update --force <service>`; upgrade the engine (fixed by moby PR #53663)',
    rows: [6],
  },
  {
    key: 'duplicateIp',
    source: 'dockerd',
    all: ['peerDbAdd transient condition'],
    check: 'log.peerdb.duplicate-ip',
    severity: 'fail',
    says: 'saw two endpoints with the same overlay IP',
    meaning: 'IP reuse or duplicate task/VIP addresses: traffic may go to the wrong task',
    remediation: 'find the duplicate in `docker network inspect --verbose <network>`; remove the stale task or restart the leader manager',
    rows: [22],
  },
  {
    key: 'vxlanExists',
    source: 'dockerd',
    all: ['error creating vxlan interface: file exists'],
    check: 'log.vxlan.create',
    severity: 'fail',
    says: 'could not create a vxlan device (file exists)',
    meaning: 'a leftover vx-* device blocks the network sandbox join',
    remediation: 'remove the stray device: `ip -d link show type vxlan`, then `ip link del <vx-…>` for the one outside any live sandbox',
    rows: [24],
  },
  {
    key: 'vxlanUnsupported',
    source: 'dockerd',
    all: ['error creating vxlan interface: operation not supported'],
    check: 'log.vxlan.create',
    severity: 'fail',
    says: 'could not create a vxlan device (operation not supported)',
    meaning: 'the kernel has no VXLAN: overlay networks cannot work on this node',
    remediation: 'install a kernel with the vxlan module (`modprobe vxlan`)',
    rows: [32],
  },
  {
    key: 'noIpvs',
    source: 'dockerd',
    all: ['Could not get ipvs family information from the kernel'],
    check: 'log.lb.ipvs',
    severity: 'fail',
    says: 'could not use IPVS',
    meaning: 'the kernel has no IPVS: the routing mesh and service VIPs do not balance',
    remediation: 'load ip_vs (`modprobe ip_vs ip_vs_rr`) or use a kernel that has it; meanwhile publish with mode: host and use endpoint_mode: dnsrr',
    rows: [32],
  },
  {
    key: 'lbProgramming',
    source: 'dockerd',
    all: [],
    any: ['Failed to add firewall mark rule in sbox', 'Failed to create real server'],
    check: 'log.lb.ipvs',
    severity: 'fail',
    says: 'failed to program the load balancer',
    meaning: 'the service load balancer (fwmark rule or IPVS real server) is not programmed',
    remediation: 'check ip_vs and xt_mark are loaded; `docker service update --force <service>`',
    rows: [32],
  },
  {
    key: 'u32Missing',
    source: 'dockerd',
    all: [],
    any: ["Couldn't load match `u32'", "Couldn't load match 'u32'", 'could not add input rule'],
    check: 'log.encryption.rules',
    severity: 'fail',
    says: "could not add the encrypted overlay's iptables rules",
    meaning: 'the xt_u32 match is missing: encrypted overlays pass no traffic (or unencrypted)',
    remediation: 'install and load xt_u32 (`modprobe xt_u32`; on RHEL: kernel-modules-extra)',
    rows: [17],
  },
  {
    key: 'saAdd',
    source: 'dockerd',
    all: [],
    any: ['Failed Adding fSA', 'Failed adding fSA', 'Failed Adding rSA', 'Failed adding rSA'],
    check: 'log.encryption.sa',
    severity: 'fail',
    says: 'could not add an IPsec SA',
    meaning: 'the kernel refuses XFRM states (no XFRM / esp4): encrypted overlays are dead',
    remediation: 'load xfrm_user and esp4 (`modprobe xfrm_user esp4`) or use a kernel that has them; else use unencrypted overlays',
    rows: [14, 17],
  },
  {
    key: 'ipamExhausted',
    source: 'dockerd',
    all: [],
    any: ['failed to allocate network IP for task', 'could not find an available IP'],
    check: 'log.ipam.exhausted',
    severity: 'fail',
    says: 'could not allocate an overlay address',
    meaning: 'the overlay subnet is exhausted: tasks stay in NEW/PENDING',
    remediation: 'create a larger network (`docker network create -d overlay --subnet <a /22 or larger> …`) and move services to it',
    network: { after: ['network '], kind: 'network' },
    rows: [21],
  },
  {
    key: 'poolOverlaps',
    source: 'dockerd',
    all: ['invalid pool request: Pool overlaps'],
    check: 'log.ipam.exhausted',
    severity: 'fail',
    says: 'rejected an overlapping address pool',
    meaning: "a requested subnet overlaps another network's pool",
    remediation: 'pick a subnet no other network uses (`docker network ls -q | xargs docker network inspect -f "{{.Name}} {{.IPAM.Config}}"`)',
    rows: [20],
  },
  {
    key: 'x509',
    source: 'dockerd',
    all: ['x509: certificate has expired or is not yet valid'],
    check: 'log.tls.certificate',
    severity: 'fail',
    says: 'rejected a swarm TLS certificate (expired or not yet valid)',
    meaning: 'clock skew between nodes or an expired node certificate',
    remediation: 'synchronise the clocks (chrony/ntp); if certificates expired: `docker swarm ca --rotate` from a manager',
    rows: [31],
  },
  {
    key: 'addressChange',
    source: 'dockerd',
    all: ['detected address change for'],
    check: 'log.node.address-change',
    severity: 'warn',
    says: 'detected an address change',
    meaning: "the node's address changed: peers may keep using the old advertise address",
    remediation: 'give the node a stable address; rejoin it with `docker swarm leave` / `join --advertise-addr <ip>` if peers use the old one',
    rows: [30],
  },
  {
    key: 'ipv4Assumed',
    source: 'dockerd',
    all: ['Assuming IPv4 transport'],
    check: 'log.underlay.ipv6',
    severity: 'warn',
    says: 'assumed IPv4 transport',
    // Engine 25+ (libnetwork/drivers/overlay/ov_network.go): logged when a network's sandbox is made
    // before the node's data-path address is known; an IPv6 advertise address itself does not log it.
    meaning:
      "dockerd made a network's VXLAN device for IPv4 transport because the node's data-path address was not known yet: where the swarm's data plane is IPv6, that network carries nothing on this node",
    remediation: 'give every node an IPv4 data-path address (`docker swarm join --data-path-addr <ipv4>`)',
    rows: [37],
  },
  {
    key: 'liveRestore',
    source: 'dockerd',
    all: ['--live-restore daemon configuration is incompatible with swarm mode'],
    check: 'log.swarm.live-restore',
    severity: 'fail',
    says: 'could not start swarm mode (live-restore is on)',
    meaning: 'the cluster component does not start while live-restore is enabled',
    remediation: 'set "live-restore": false in /etc/docker/daemon.json and restart dockerd',
    rows: [],
  },
  {
    key: 'neighOverflow',
    source: 'kernel',
    all: ['neighbor table overflow'],
    check: 'log.kernel.tables',
    severity: 'fail',
    says: 'overflowed its neighbour table',
    meaning: 'more neighbours than net.ipv4.neigh.default.gc_thresh3: new peers get no ARP entry, packets drop',
    remediation: 'raise net.ipv4.neigh.default.gc_thresh1/2/3 (e.g. 8192/32768/65536) with sysctl -w and in /etc/sysctl.d',
    rows: [34],
  },
  {
    key: 'conntrackFull',
    source: 'kernel',
    // Kernels before 6.x print "table full, dropping packet"; newer ones name a child
    // namespace: "table full in netns 4026532252, dropping packet" (seen on the lab, 6.18).
    all: ['nf_conntrack: ', 'table full', ', dropping packet'],
    check: 'log.kernel.tables',
    severity: 'fail',
    says: 'dropped packets: conntrack table full',
    meaning: 'nf_conntrack_max reached: new connections are dropped',
    remediation: 'raise net.netfilter.nf_conntrack_max (and the hashsize) with sysctl -w and in /etc/sysctl.d',
    rows: [34],
  },
  {
    key: 'kernelVxlan',
    source: 'kernel',
    all: ['vxlan'],
    any: ['error', 'failed', 'Failed', 'non-ECT', 'Cannot'],
    check: 'log.kernel.tables',
    severity: 'warn',
    says: 'logged a vxlan error in the kernel',
    meaning: 'the kernel reports trouble on a vxlan device',
    remediation: 'read the line; check `ip -d link show type vxlan` in the network sandboxes',
    rows: [24, 29],
  },
];
