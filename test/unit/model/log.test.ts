/**
 * The log signature catalogue and the log model, on real dockerd and kernel
 * lines: quoted from public issue threads (the thread is named next to each)
 * or, where no thread quotes one, of the exact form the engine prints (the
 * format string in moby/libnetwork or swarmkit), with the lab's node names.
 */
import { describe, expect, it } from 'vitest';
import { buildModel } from '../../../src/model/build.js';
import { LOG_SIGNATURES } from '../../../src/model/log-signatures.js';
import { lineTime, matches } from '../../../src/model/log.js';
import { labWith, ok, setSection } from '../../support/lab-mutate.js';

/** [signature key, line]: every signature has at least one. */
const REAL: [string, string][] = [
  // docker/for-linux#882 (title) and hashicorp/consul#19965 (newer memberlist wording)
  [
    'udpProbesFailed',
    'Dec 11 06:54:47 docker03 dockerd: time="2019-12-11T06:54:47.767355452+08:00" level=warning msg="memberlist: Was able to connect to b3e0c29eb2bf but other probes failed, network may be misconfigured"',
  ],
  [
    'udpProbesFailed',
    '2023-12-15T12:49:57.769Z [WARN]  agent.server.memberlist.lan: memberlist: Was able to connect to consul-1 over TCP but UDP probes failed, network may be misconfigured',
  ],
  // moby/moby#32195
  [
    'fallbackPing',
    'Jul 26 15:19:49 npt-preprod-mgr000000 dockerd[1570]: time="2017-07-26T15:19:49.057808880+01:00" level=warning msg="memberlist: Failed fallback ping: read tcp 10.240.4.68:53028->10.240.4.69:7946: i/o timeout"',
  ],
  [
    'suspect',
    'Jul 26 15:19:49 npt-preprod-mgr000000 dockerd[1570]: time="2017-07-26T15:19:49.057845781+01:00" level=info msg="memberlist: Suspect npt-preprod-wrk000000-e7b572633436 has failed, no acks received"',
  ],
  [
    'markedFailed',
    'Jul 26 15:19:56 npt-preprod-mgr000000 dockerd[1570]: time="2017-07-26T15:19:56.915818350+01:00" level=info msg="memberlist: Marking npt-preprod-wrk000000-e7b572633436 as failed, suspect timeout reached (3 peer confirmations)"',
  ],
  // moby/swarmkit#2276
  [
    'fallbackPing',
    'Jun 20 19:15:55 ip-10-0-101-134 dockerd[10882]: time="2017-06-20T19:15:55.113234249Z" level=warning msg="memberlist: Failed TCP fallback ping: read tcp 10.0.101.134:35610->10.0.109.151:7946: i/o timeout"',
  ],
  [
    'refuted',
    'Jun 20 19:16:21 ip-10-0-101-134 dockerd[10882]: time="2017-06-20T19:16:21.453476300Z" level=warning msg="memberlist: Refuting a suspect message (from: ip-10-0-109-151-2122b7c4e5ee)"',
  ],
  [
    'neighborPresent',
    'Jun 20 19:15:43 ip-10-0-101-134 dockerd[10882]: time="2017-06-20T19:15:43.900740901Z" level=warning msg="Neighbor entry already present for IP 10.0.46.77, mac 02:42:0a:ff:00:09"',
  ],
  // moby/moby#40337
  [
    'bulkSyncTimeout',
    'Dec 29 03:15:47 DC6-SV-ELK01 dockerd: time="2019-12-29T03:15:47.285689649-05:00" level=error msg="Bulk sync to node 8645b70c8e41 timed out"',
  ],
  // moby/moby#35239
  [
    'nodeJoin',
    'Oct 18 12:00:37 uvinct638 dockerd[23134]: time="2017-10-18T12:00:37.287564129+02:00" level=info msg="Node join event for uvinct636-206bf082d1ba/10.201.2.37"',
  ],
  // networkdb/delegate.go: "Node leave event for %s/%s"
  [
    'nodeLeave',
    'Oct 18 12:00:39 uvinct638 dockerd[23134]: time="2017-10-18T12:00:39.287564129+02:00" level=info msg="Node leave event for uvinct636-206bf082d1ba/10.201.2.37"',
  ],
  // moby/moby#35807
  [
    'resolvePeer',
    'Dec 15 00:45:58 ip-10-10-2-39.us-west-2.compute.internal dockerd[15797]: time="2017-12-15T00:45:58.045236075Z" level=error msg="could not resolve peer \\"10.50.48.14\\": timed out resolving peer by querying the cluster"',
  ],
  // moby/moby#44283
  [
    'peerDelete',
    'Jun 13 15:13:00 manager-3 dockerd[759]: time="2023-06-13T15:13:00.968699029Z" level=warning msg="Peer delete operation failed" error="could not delete fdb entry for nid:tzwz1y16enkeub8g1ce3eekef eid:0df1c37a93d48f711b030e1c08b0a27c14d2ad786b36deddc6812c231f1eb8a8 into the sandbox:Search neighbor failed for IP 192.168.1.2, mac 02:42:0a:01:05:49, present in db:false"',
  ],
  // overlay/peerdb.go: "peerDbAdd transient condition - Key:%s cardinality:%d db state:%s"
  [
    'duplicateIp',
    'dockerd[812]: time="2024-02-01T10:00:00.000000000Z" level=warning msg="peerDbAdd transient condition - Key:10.0.1.7 02:42:0a:00:01:07 cardinality:2 db state:Set{{dbf6a6b5e0f7 10.213.0.12 24 32 false}, {a1c2e3f4a5b6 10.213.0.13 24 32 false}}"',
  ],
  // moby/libnetwork#1765
  [
    'vxlanExists',
    'Mar 10 14:57:42 server dockerd[2727119]: time="2026-03-10T14:57:42.922414002+01:00" level=error msg="fatal task error" error="network sandbox join failed: subnet sandbox join failed for \\"10.0.2.0/24\\": error creating vxlan interface: file exists" module=node/agent/taskmanager node.id=htvjej9zakceivxt1b9lkmr20',
  ],
  // overlay/ov_network.go, on a kernel without vxlan
  [
    'vxlanUnsupported',
    'dockerd[812]: time="2024-02-01T10:00:00.000000000Z" level=error msg="fatal task error" error="network sandbox join failed: subnet sandbox join failed for \\"10.0.1.0/24\\": error creating vxlan interface: operation not supported"',
  ],
  // kubernetes/kops#4544 (the same moby/ipvs message)
  [
    'noIpvs',
    'time="2018-03-01T13:36:50Z" level=error msg="Could not get ipvs family information from the kernel. It is possible that ipvs is not enabled in your kernel. Native loadbalancing will not work until this is fixed."',
  ],
  // service_linux.go: "Failed to create real server %s for vip %s fwmark %d in sbox %.7s (%.7s): %v"
  [
    'lbProgramming',
    'dockerd[812]: time="2024-02-01T10:00:00.000000000Z" level=error msg="Failed to create real server 10.0.1.7 for vip 10.0.1.2 fwmark 258 in sbox lb_awe (1c2d3e4): no such file or directory"',
  ],
  // moby/moby#43382
  [
    'u32Missing',
    'dockerd[812]: time="2022-03-15T10:00:00Z" level=error msg="could not install mangle rule:  (iptables failed: iptables --wait -t mangle -A OUTPUT -p udp --dport 4789 -m u32 --u32 0>>22&0x3C@12&0xFFFFFF00=1048832 -j MARK --set-mark 13681891: iptables v1.8.4 (nf_tables): Couldn\'t load match `u32\':No such file or directory"',
  ],
  // moby/moby#43359 (key shown empty as in the thread; a real key is cut on the node)
  [
    'saAdd',
    'Mar 10 14:18:31 srv01 dockerd[1297]: time="2022-03-10T14:18:31.277371111+01:00" level=warning msg="Failed Adding fSA{Dst: 10.55.2.10, Src: 10.55.2.11, Proto: esp, Mode: transport, SPI: 0x29ad0c9a, ReqID: 0xd0c4e3, ReplayWindow: 0, Mark: <nil>, OutputMark: 0, Ifid: 0, Auth: <nil>, Crypt: <nil>, Aead: {Name: rfc4106(gcm(aes)), Key: , ICV length: 64}, Encap: <nil>, ESN: false}: invalid argument."',
  ],
  // swarmkit allocator
  [
    'ipamExhausted',
    'dockerd[812]: time="2024-02-01T10:00:00.000000000Z" level=error msg="failed allocating task into network" error="could not find an available IP" module=node network=aweos9uhri8ik0l89avdlzg78',
  ],
  [
    'poolOverlaps',
    'dockerd[812]: time="2024-02-01T10:00:00.000000000Z" level=error msg="Handler for POST /v1.43/networks/create returned error: invalid pool request: Pool overlaps with other one on this address space"',
  ],
  [
    'x509',
    'dockerd[812]: time="2024-02-01T10:00:00.000000000Z" level=error msg="error receiving response" error="rpc error: code = Unavailable desc = connection error: desc = \\"transport: authentication handshake failed: x509: certificate has expired or is not yet valid\\""',
  ],
  [
    'addressChange',
    'dockerd[812]: time="2024-02-01T10:00:00.000000000Z" level=info msg="detected address change for 10.213.0.12 (was 10.213.0.22)" module=node',
  ],
  [
    'ipv4Assumed',
    'dockerd[812]: time="2024-02-01T10:00:00.000000000Z" level=warning msg="Assuming IPv4 transport for vxlan; no IPv4 address on the data path interface"',
  ],
  [
    'liveRestore',
    'dockerd[812]: time="2024-02-01T10:00:00.000000000Z" level=error msg="Error starting cluster component: --live-restore daemon configuration is incompatible with swarm mode"',
  ],
  // networkdb/cluster.go: "NetworkDB stats %v(%v) - healthscore:%d (connectivity issues)"
  [
    'healthScore',
    'dockerd[812]: time="2024-02-01T10:00:00.000000000Z" level=warning msg="NetworkDB stats nd2(0a1b2c3d4e5f) - healthscore:3 (connectivity issues)"',
  ],
  // Requiem4Eternity/Appstream#102, kubernetes/kubernetes#71261, canonical/hotsos#101
  ['neighOverflow', 'Jun 11 11:04:35 k8snode228 kernel: neighbour: arp_cache: neighbor table overflow!'],
  ['conntrackFull', '[Tue Nov 20 22:30:22 2018] nf_conntrack: table full, dropping packet'],
  ['conntrackFull', 'kernel: [1694413.644132] nf_conntrack: nf_conntrack: table full, dropping packet'],
  // The lab on kernel 6.18 (test/e2e/rows.test.ts): a node's network namespace over nf_conntrack_max.
  ['conntrackFull', '[33018.238155] nf_conntrack: nf_conntrack: table full in netns 4026532252, dropping packet'],
  ['kernelVxlan', '2026-11-29T16:00:01+0000 nd2 kernel: vxlan: non-ECT from 10.213.0.13 with TOS=0x2'],
];

/** Lines that must match nothing. */
const NONE = [
  // docker-library/docker#208: a healthy NetworkDB stats line
  'Dec 11 06:54:47 docker03 dockerd: time="2019-12-11T06:54:47.767355452+08:00" level=info msg="NetworkDB stats docker03.crm.konka.com(e96a082330cd) - netID:qr7lotpn87qukfehp4wlh3ucj leaving:false netPeers:3 entries:56 Queue qLen:0 netMsg/s:0"',
  'dockerd[812]: time="2024-02-01T10:00:00Z" level=info msg="NetworkDB stats nd2(0a1b2c3d4e5f) - healthscore:0"',
  // moby/moby#51701: a bulk sync that worked
  'Dec 12 08:55:43 ip-10-0-0-76 dockerd[1541]: time="2025-12-12T08:55:42.877717030Z" level=debug msg="ip-10-0-0-76(34c828198856): Bulk sync to node 4ab61b7ffbc0 took 1.35951ms"',
  // hashicorp/consul#5195: a debug line about a failed ping, not a fallback
  '2019/01/07 17:25:30 [DEBUG] memberlist: Failed ping: hkam30008 (timeout reached)',
  // moby/moby#32195: nf_conntrack noise
  'Aug 30 20:15:35 bf01-swc-n000 kernel: nf_conntrack: falling back to vmalloc.',
  'Jul 26 15:19:56 mgr dockerd[1570]: time="2017-07-26T15:19:56Z" level=info msg="memberlist: Stream connection from=10.240.4.69:41000"',
  'dockerd[812]: time="2024-02-01T10:00:00Z" level=info msg="Peer flush operation done"',
];

describe('the log signature catalogue', () => {
  it('has one real line per signature, and each matches exactly its own signature', () => {
    for (const s of LOG_SIGNATURES)
      expect(
        REAL.some(([k]) => k === s.key),
        `a real line for ${s.key}`,
      ).toBe(true);
    for (const [key, line] of REAL) {
      // dockerd lines are matched against dockerd signatures, kernel lines against kernel ones
      const source = LOG_SIGNATURES.find((s) => s.key === key)!.source;
      const hit = LOG_SIGNATURES.filter((s) => s.source === source && matches(line, s)).map((s) => s.key);
      expect(hit, line).toEqual([key]);
    }
  });
  it('matches none of the lines that only look alike', () => {
    for (const line of NONE)
      expect(
        LOG_SIGNATURES.filter((s) => matches(line, s)).map((s) => s.key),
        line,
      ).toEqual([]);
  });
  it('every entry is a log-layer check with a meaning, a remediation, and unique keys', () => {
    const keys = new Set(LOG_SIGNATURES.map((s) => s.key));
    expect(keys.size).toBe(LOG_SIGNATURES.length);
    for (const s of LOG_SIGNATURES) {
      expect(s.check).toMatch(/^log\.[a-z0-9]+\.[a-z0-9-]+$/);
      expect(s.meaning.length).toBeGreaterThan(10);
      expect(s.remediation.length).toBeGreaterThan(10);
    }
  });
  it('reads logrus, journald short-iso and offset times', () => {
    expect(lineTime(REAL[2]![1])).toBe('2017-07-26T14:19:49.057Z');
    expect(lineTime('2026-11-29T16:00:01+0000 nd2 kernel: vxlan: x')).toBe('2026-11-29T16:00:01.000Z');
    expect(lineTime('[Tue Nov 20 22:30:22 2018] nf_conntrack: table full, dropping packet')).toBeNull();
  });
});

const t = (s: string) => `time="2026-11-29T${s}Z"`;
const NOTE =
  "docker log: journald (dockerd's own entries: journalctl _COMM=dockerd + SYSLOG_IDENTIFIER=dockerd -n 2000 --since @1796000000, entries with CONTAINER_ID left out)";

const log3 = {
  stdout:
    'time="2026-11-29T15:45:34.630612751Z" level=info msg="New memberlist node - Node:nd3 will use memberlist nodeID:fcb784cc5d4c with config:&{NodeID:fcb784cc5d4c Hostname:nd3 BindAddr:0.0.0.0 AdvertiseAddr:10.213.0.13 BindPort:0 Keys:<redacted> PacketBufferSize:1400 reapEntryInterval:1800000000000 reapNetworkInterval:1825000000000 StatsPrintPeriod:5m0s HealthPrintPeriod:1m0s}"\n',
  stderr: 'docker log: /var/log/docker.log (last 2000 lines since @1795964400)\n',
  rc: 0,
};

describe('the log model', () => {
  const snap = () =>
    labWith((s) => {
      setSection(s, 'nd1', 'host/docker-log', {
        stdout: [
          `dockerd[700]: ${t('15:01:00.1')} level=info msg="NetworkDB stats nd1(aaaaaaaaaaa1) - netID:aweos9uhri8ik0l89avdlzg78 leaving:false netPeers:3 entries:6 Queue qLen:0 netMsg/s:0"`,
          `dockerd[700]: ${t('15:02:00.1')} level=info msg="Node join event for bbbbbbbbbbb3/10.213.0.13"`,
          ...Array.from(
            { length: 41 },
            (_, i) =>
              `dockerd[700]: ${t(`15:${String(10 + i).padStart(2, '0')}:00.5`)} level=info msg="memberlist: Suspect bbbbbbbbbbb3 has failed, no acks received"`,
          ),
          `dockerd[700]: ${t('15:55:00.0')} level=warning msg="memberlist: Was able to connect to nd2-cccccccccc22 but other probes failed, network may be misconfigured"`,
          `dockerd[700]: ${t('15:56:00.0')} level=warning msg="memberlist: Failed fallback ping: read tcp 10.213.0.11:53028->10.213.0.12:7946: i/o timeout"`,
          `dockerd[700]: ${t('15:56:30.0')} level=error msg="Bulk sync to node eeeeeeeeeee2 timed out"`,
          `dockerd[700]: ${t('15:58:00.0')} level=warning msg="memberlist: Was able to connect to fcb784cc5d4c but other probes failed, network may be misconfigured"`,
          `dockerd[700]: ${t('15:57:00.0')} level=warning msg="Peer delete operation failed" error="could not delete fdb entry for nid:aweos9uhri8ik0l89avdlzg78 eid:0df1 into the sandbox"`,
        ].join('\n'),
        stderr: 'docker log: /var/log/docker.log (last 2000 lines since @1796000000)\n',
        rc: 0,
      });
      // the lab's nd3 (dockerd 20.10) names its memberlist id at start-up (Keys cut on the node)
      setSection(s, 'nd3', 'host/docker-log', log3);
      setSection(s, 'nd2', 'host/kernel-log', ok('2026-11-29T15:30:00+0000 nd2 kernel: neighbour: arp_cache: neighbor table overflow!\n'));
      // nd2's own stats line names its NetworkDB id: nd1's bulk-sync line uses it
      setSection(s, 'nd2', 'host/docker-log', {
        stdout: `dockerd[701]: ${t('15:01:00.2')} level=info msg="NetworkDB stats nd2(eeeeeeeeeee2) - netID:aweos9uhri8ik0l89avdlzg78 leaving:false netPeers:3 entries:6 Queue qLen:0 netMsg/s:0"\n`,
        stderr: `${NOTE}\n`,
        rc: 0,
      });
    });

  it('counts per peer with first and last time, mapping members through join events and hostnames, addresses and network ids', () => {
    const m = buildModel(snap());
    const log = m.node('nd1')!.log!;
    expect(log.docker.ok && log.docker.value.since).toBe(1796000000);
    const by = (k: string) => log.hits.filter((h) => h.signature.key === k);
    expect(by('suspect').map((h) => [h.peer, h.count, h.first, h.last])).toEqual([
      ['nd3', 41, '2026-11-29T15:10:00.500Z', '2026-11-29T15:50:00.500Z'],
    ]);
    expect(by('udpProbesFailed').map((h) => [h.peer, h.subject])).toEqual([
      ['nd2', 'nd2-cccccccccc22'],
      ['nd3', 'fcb784cc5d4c'],
    ]);
    expect(by('fallbackPing').map((h) => h.peer)).toEqual(['nd2']);
    expect(by('peerDelete').map((h) => h.network)).toEqual(['ndnet']);
    expect(by('bulkSyncTimeout').map((h) => [h.peer, h.subject])).toEqual([['nd2', 'eeeeeeeeeee2']]);
    // one join event is no storm
    expect(by('nodeJoin')).toEqual([]);
    expect(m.node('nd2')!.log!.hits.map((h) => h.signature.key)).toEqual(['neighOverflow']);
    const nd2 = m.node('nd2')!.log!.docker;
    expect(nd2.ok && [nd2.value.source, nd2.value.since]).toEqual(['journald', 1796000000]);
    expect(m.node('nd3')!.log!.docker.ok).toBe(true);
  });
});
