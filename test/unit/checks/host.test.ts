import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { REGISTRY } from '../../../src/checks/registry.js';

const hostChecks = REGISTRY.filter((c) => c.meta.layer === 'host' && !c.meta.id.startsWith('host.gwbridge'));
import { runChecks } from '../../../src/checks/runner.js';
import type { Finding } from '../../../src/checks/types.js';
import { buildHostFacts } from '../../../src/parse/host.js';
import type { ClusterSnapshot, NodeSnapshot } from '../../../src/snapshot/types.js';
import { labSnapshot } from '../../support/lab-fixtures.js';
import { expectOne, matching, type Expect } from '../../support/findings.js';
import { withHostTables } from '../../support/lab-mutate.js';

const HEALTHY = labSnapshot('healthy');
const iptablesFixture = (name: string): string => readFileSync(new URL(`../../fixtures/iptables/${name}`, import.meta.url), 'utf8');
const lab = (): ClusterSnapshot => structuredClone(HEALTHY);
const run = (s: ClusterSnapshot): Finding[] => runChecks({ snapshot: s, probes: null }, {}, hostChecks);
const node = (s: ClusterSnapshot, name: string): NodeSnapshot => s.nodes.find((n) => n.name === name)!;
const host = (s: ClusterSnapshot, name: string) => node(s, name).host!;
const of = (fs: Finding[], id: string, n?: string) => fs.filter((f) => f.id === id && (n === undefined || f.node === n));
const bad = (fs: Finding[]) => fs.filter((f) => f.status !== 'pass');

/** Re-derive a node's HostFacts after changing its raw sections, as collection would have. */
function rebuild(s: ClusterSnapshot, name: string): void {
  const n = node(s, name);
  n.host = buildHostFacts(n.raw, n.host!.clock!.localReceived);
}

/** The node's recorded iptables-save with extra filter rules (before Docker's) and optional policy changes. */
function iptables(s: ClusterSnapshot, name: string, rules: string[], policies: Record<string, string> = {}): string {
  let text = node(s, name).raw['host/iptables-save']!.stdout;
  for (const [chain, policy] of Object.entries(policies)) text = text.replace(`:${chain} ACCEPT [0:0]`, `:${chain} ${policy} [0:0]`);
  return text.replace(':DOCKER-USER - [0:0]\n', `:DOCKER-USER - [0:0]\n${rules.map((r) => `${r}\n`).join('')}`);
}

function setIptables(s: ClusterSnapshot, name: string, rules: string[], policies: Record<string, string> = {}, extraChains: string[] = []): void {
  let text = iptables(s, name, rules, policies);
  for (const c of extraChains) text = text.replace(':DOCKER-USER - [0:0]\n', `:DOCKER-USER - [0:0]\n:${c} - [0:0]\n`);
  node(s, name).raw['host/iptables-save']!.stdout = text;
}

function makeUnreachable(s: ClusterSnapshot, name: string, stage: string, message: string): void {
  const n = node(s, name);
  Object.assign(n, {
    status: stage === 'exec' ? 'error' : 'unreachable',
    errors: [{ stage, kind: stage, message }],
    raw: {},
    host: null,
    sandboxes: [],
    sandboxAccess: 'none',
  });
}

describe('host checks on the healthy lab', () => {
  const fs = run(withHostTables(lab()));

  it('reports every check for every node, and nothing errors', () => {
    for (const c of hostChecks) {
      for (const n of ['nd1', 'nd2', 'nd3']) expect(of(fs, c.meta.id, n).length, `${c.meta.id} ${n}`).toBeGreaterThan(0);
    }
    expect(fs.filter((f) => f.status === 'error')).toEqual([]);
  });

  it('fails only what the lab kernel really lacks: IPVS for the ingress-published web service, on every node', () => {
    expect(bad(fs).map((f) => [f.id, f.status, f.node])).toEqual([
      ['host.kernel.modules', 'fail', 'nd1'],
      ['host.kernel.modules', 'fail', 'nd2'],
      ['host.kernel.modules', 'fail', 'nd3'],
      // Lab nodes are network namespaces: the neighbour table's counters and limit exist only in the host's.
      ['host.tables.neighbours', 'skip', 'nd1'],
      ['host.tables.neighbours', 'skip', 'nd2'],
      ['host.tables.neighbours', 'skip', 'nd3'],
    ]);
    const f = of(fs, 'host.kernel.modules', 'nd1')[0]!;
    expect(f.detail).toContain('ip_vs and ip_vs_rr are not loaded');
    expect(f.detail).toContain('IPVS is not available in this kernel');
    expect(f.detail).toContain('web (ingress tcp/8080; VIP on ndnet)');
    expect(f.remediation).toContain('modprobe -a ip_vs ip_vs_rr xt_mark');
    expect(f.remediation).toContain('On nd1');
  });

  it('passes say what was verified', () => {
    expect(of(fs, 'host.listen.ports', 'nd1')[0]!.detail).toBe('listening: tcp/2377, tcp/7946, udp/7946, udp/4789');
    expect(of(fs, 'host.listen.ports', 'nd2')[0]!.detail).toBe('listening: tcp/7946, udp/7946, udp/4789');
    expect(of(fs, 'host.firewall.ports', 'nd2')[0]!.detail).toContain('tcp/2377, tcp/7946, udp/7946 and udp/4789');
    expect(of(fs, 'host.iptables.backend-mixed', 'nd3')[0]!.detail).toContain('only in iptables-nft');
    // br_netfilter has no /sys/module entry in the lab, but its sysctls exist: not reported missing.
    expect(of(fs, 'host.sysctl.bridge-nf', 'nd1')[0]!.status).toBe('pass');
  });
});

const cases: { name: string; mutate: (s: ClusterSnapshot) => void; expect: Expect[]; absent?: Expect[] }[] = [
  {
    name: 'node unreachable (connect)',
    mutate: (s) => makeUnreachable(s, 'nd3', 'connect', 'connect ECONNREFUSED 10.213.0.13:22'),
    expect: [
      {
        id: 'host.node.reachable',
        status: 'fail',
        node: 'nd3',
        detail: /nd3 unreachable: connect ECONNREFUSED 10\.213\.0\.13:22/,
        remediation: /sshd answers on 10\.213\.0\.13:22/,
      },
      { id: 'host.dockerd.running', status: 'skip', node: 'nd3', detail: /^node not collected: connect ECONNREFUSED/ },
      { id: 'host.firewall.ports', status: 'skip', node: 'nd3' },
      { id: 'host.clock.skew', status: 'skip', node: 'nd3' },
    ],
  },
  {
    name: 'node unreachable (timeout)',
    mutate: (s) => makeUnreachable(s, 'nd2', 'timeout', 'timed out after 60 s'),
    expect: [{ id: 'host.node.reachable', status: 'fail', node: 'nd2', detail: /unreachable \(timed out\)/ }],
  },
  {
    name: 'SSH authentication refused',
    mutate: (s) => makeUnreachable(s, 'nd2', 'auth', 'All configured authentication methods failed'),
    expect: [
      { id: 'host.node.reachable', status: 'fail', node: 'nd2', detail: /SSH authentication failed: All configured/, remediation: /--identity/ },
    ],
  },
  {
    name: 'unknown host key',
    mutate: (s) => makeUnreachable(s, 'nd2', 'hostkey', 'host key for 10.213.0.12 is not known'),
    expect: [{ id: 'host.node.reachable', status: 'fail', node: 'nd2', detail: /host key not trusted/, remediation: /--accept-new-host-keys/ }],
  },
  {
    name: 'sudo wants a password',
    mutate: (s) => makeUnreachable(s, 'nd2', 'sudo', 'sudo: a password is required'),
    expect: [{ id: 'host.node.reachable', status: 'fail', node: 'nd2', detail: /sudo needs a password/, remediation: /NOPASSWD/ }],
  },
  {
    name: 'dockerd down',
    mutate: (s) => {
      const n = node(s, 'nd2');
      n.raw['host/dockerd-pid'] = { stdout: '', stderr: 'dockerd is not running', rc: 1 };
      delete n.raw['host/dockerd-cmdline'];
      delete n.raw['host/mountns'];
      rebuild(s, 'nd2');
    },
    expect: [
      { id: 'host.dockerd.running', status: 'fail', node: 'nd2', detail: /dockerd is not running on nd2/, remediation: /systemctl start docker/ },
      { id: 'host.listen.ports', status: 'skip', node: 'nd2', detail: /dockerd is not running/ },
      { id: 'host.mountns.separate', status: 'skip', node: 'nd2' },
    ],
  },
  {
    name: 'MountFlags=slave and a separate mount namespace',
    mutate: (s) => {
      const n = node(s, 'nd2');
      n.raw['host/systemd-docker'] = { stdout: 'MountFlags=slave\nActiveState=active', stderr: '', rc: 0 };
      n.raw['host/mountns'] = { stdout: 'self=mnt:[4026531841] dockerd=mnt:[4026532290]', stderr: '', rc: 0 };
      n.raw['netns/access'] = { stdout: 'dockerd-mount-ns', stderr: '', rc: 0 };
      n.sandboxAccess = 'dockerd-mount-ns';
      rebuild(s, 'nd2');
    },
    expect: [
      {
        id: 'host.mountns.separate',
        status: 'warn',
        node: 'nd2',
        detail:
          /MountFlags=slave \(from systemctl show docker\).*mount namespace of its own.*read the sandboxes through dockerd's mount namespace \(nsenter -t 38 -m\)/,
        remediation: /systemctl daemon-reload && systemctl restart docker/,
      },
    ],
  },
  {
    name: 'ip_forward=0',
    mutate: (s) => {
      host(s, 'nd1').sysctls['net/ipv4/ip_forward'] = '0';
    },
    expect: [
      {
        id: 'host.sysctl.ip-forward',
        status: 'fail',
        node: 'nd1',
        detail: /ip_forward = 0 on nd1/,
        remediation: /sysctl -w net\.ipv4\.ip_forward=1.*\/etc\/sysctl\.d/,
      },
    ],
  },
  {
    name: 'bridge-nf-call-iptables=0 and strict rp_filter',
    mutate: (s) => {
      host(s, 'nd3').sysctls['net/bridge/bridge-nf-call-iptables'] = '0';
      host(s, 'nd3').sysctls['net/ipv4/conf/all/rp_filter'] = '1';
    },
    expect: [
      { id: 'host.sysctl.bridge-nf', status: 'warn', node: 'nd3', remediation: /bridge-nf-call-iptables=1/ },
      { id: 'host.sysctl.rp-filter', status: 'warn', node: 'nd3', detail: /strict/, remediation: /rp_filter=2/ },
    ],
  },
  {
    name: 'Docker chains in both iptables backends',
    mutate: (s) => {
      const n = node(s, 'nd1');
      n.raw['host/iptables-legacy-save'] = {
        stdout: n.raw['host/iptables-nft-save']!.stdout.replace(/iptables-nft-save v1\.8\.9 \(nf_tables\)/g, 'iptables-legacy-save v1.8.9'),
        stderr: '',
        rc: 0,
      };
      rebuild(s, 'nd1');
    },
    expect: [
      {
        id: 'host.iptables.backend-mixed',
        status: 'fail',
        node: 'nd1',
        detail: /both iptables-legacy and iptables-nft/,
        remediation: /update-alternatives --set iptables \/usr\/sbin\/iptables-nft.*systemctl restart docker/,
      },
      // The legacy rules are read too, and let the swarm ports through.
      { id: 'host.firewall.ports', status: 'pass', node: 'nd1', detail: /iptables-legacy-save/ },
    ],
  },
  {
    name: 'firewall drops udp/4789 from everyone and tcp/7946 from nd1',
    mutate: (s) =>
      setIptables(s, 'nd2', [
        '-A INPUT -p udp -m udp --dport 4789 -j DROP',
        '-A INPUT -s 10.213.0.11/32 -p tcp -m tcp --dport 7946 -j REJECT --reject-with icmp-port-unreachable',
      ]),
    expect: [
      {
        id: 'host.firewall.ports',
        status: 'fail',
        node: 'nd2',
        peer: null,
        detail:
          /^udp\/4789 \(VXLAN data path\) from nd1 and nd3 into nd2 is dropped by `-A INPUT -p udp -m udp --dport 4789 -j DROP` \(INPUT, iptables-save \(nft\)\)/,
        remediation: /iptables -I INPUT -s 10\.213\.0\.0\/24 -p udp --dport 4789 -j ACCEPT/,
      },
      {
        id: 'host.firewall.ports',
        status: 'fail',
        node: 'nd2',
        peer: 'nd1',
        detail: /^tcp\/7946 \(gossip\) from nd1 into nd2 is dropped by `-A INPUT -s 10\.213\.0\.11\/32 -p tcp -m tcp --dport 7946 -j REJECT/,
        remediation: /iptables -I INPUT -s 10\.213\.0\.11 -p tcp --dport 7946 -j ACCEPT/,
      },
      { id: 'host.firewall.ports', status: 'pass', node: 'nd1' },
    ],
    absent: [{ id: 'host.firewall.ports', status: 'fail', node: 'nd2', peer: 'nd3', detail: /7946/ }],
  },
  {
    name: 'recorded ufw rule set that drops udp/4789 in ufw-user-input',
    mutate: (s) => {
      node(s, 'nd2').raw['host/iptables-save']!.stdout = iptablesFixture('ufw-swarm.txt');
    },
    expect: [
      {
        id: 'host.firewall.ports',
        status: 'fail',
        node: 'nd2',
        detail:
          /^udp\/4789 \(VXLAN data path\) from nd1 and nd3 into nd2 is dropped by `-A ufw-user-input -p udp -m udp --dport 4789 -j DROP` \(reached via `-A INPUT -j ufw-before-input`, `-A ufw-before-input -j ufw-user-input`\)/,
      },
    ],
    absent: [{ id: 'host.firewall.ports', status: 'fail', node: 'nd2', detail: /7946|2377|ESP/ }],
  },
  {
    name: 'recorded firewall that only trusts 192.168.10.0/24, on the manager',
    mutate: (s) => {
      node(s, 'nd1').raw['host/iptables-save']!.stdout = iptablesFixture('firewall-drops-counters.txt');
    },
    expect: [
      {
        id: 'host.firewall.ports',
        status: 'fail',
        node: 'nd1',
        peer: null,
        detail:
          /^tcp\/2377 \(swarm control plane\) from nd2 and nd3 into nd1 is dropped by `-A INPUT -p tcp -m multiport --dports 7946,2377 -j REJECT/,
      },
      {
        id: 'host.firewall.ports',
        status: 'fail',
        node: 'nd1',
        detail:
          /^udp\/7946 \(gossip\) from nd2 and nd3 into nd1 is dropped by `-A INPUT ! -s 192\.168\.10\.0\/24 -p udp -m udp --dport 7946 -j DROP`/,
      },
      { id: 'host.firewall.ports', status: 'fail', node: 'nd1', detail: /^udp\/4789 .* `-A INPUT -p udp -m udp --dport 4789 -j DROP`/ },
    ],
  },
  {
    name: 'default-deny INPUT that allows only ssh (policy drop, through a user chain)',
    mutate: (s) =>
      setIptables(
        s,
        'nd1',
        [
          '-A INPUT -i lo -j ACCEPT',
          '-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
          '-A INPUT -j ALLOWED',
          '-A ALLOWED -p tcp -m tcp --dport 22 -j ACCEPT',
          '-A ALLOWED -p udp -m udp --dport 7946 -j ACCEPT',
          '-A ALLOWED -j RETURN',
        ],
        { INPUT: 'DROP' },
        ['ALLOWED'],
      ),
    expect: [
      {
        id: 'host.firewall.ports',
        status: 'fail',
        node: 'nd1',
        detail: /^tcp\/2377 \(swarm control plane\) from nd2 and nd3 into nd1 is dropped by the INPUT policy DROP/,
      },
      { id: 'host.firewall.ports', status: 'fail', node: 'nd1', detail: /^tcp\/7946 .* policy DROP/ },
      { id: 'host.firewall.ports', status: 'fail', node: 'nd1', detail: /^udp\/4789 .* policy DROP/ },
    ],
    absent: [{ id: 'host.firewall.ports', status: 'fail', node: 'nd1', detail: /^udp\/7946/ }],
  },
  {
    name: 'an allow rule netdoctor cannot evaluate (ipset) before a default deny',
    mutate: (s) => setIptables(s, 'nd3', ['-A INPUT -m set --match-set swarm-nodes src -j ACCEPT', '-A INPUT -p udp -m udp --dport 4789 -j DROP']),
    expect: [
      {
        id: 'host.firewall.ports',
        status: 'warn',
        node: 'nd3',
        peer: null,
        detail:
          /^udp\/4789 .* may be dropped: it is dropped by `-A INPUT -p udp -m udp --dport 4789 -j DROP` unless `-A INPUT -m set --match-set swarm-nodes src -j ACCEPT` matches/,
      },
    ],
  },
  {
    name: "worker's OUTPUT drops 2377 to the manager",
    mutate: (s) => setIptables(s, 'nd3', ['-A OUTPUT -d 10.213.0.11/32 -p tcp -m tcp --dport 2377 -j DROP']),
    expect: [
      {
        id: 'host.firewall.ports',
        status: 'fail',
        node: 'nd3',
        peer: 'nd1',
        detail: /^tcp\/2377 \(swarm control plane\) from nd3 to nd1 is dropped .* \(OUTPUT,/,
        remediation: /iptables -I OUTPUT -d 10\.213\.0\.11 -p tcp --dport 2377 -j ACCEPT/,
      },
    ],
  },
  {
    name: "encrypted overlay: Docker's VXLAN guard is ignored, an ESP drop is not",
    mutate: (s) => {
      s.cluster.networks.find((n) => n.name === 'ndnet')!.encrypted = true;
      setIptables(s, 'nd2', [
        '-A INPUT -p udp -m policy --dir in --pol none -m udp --dport 4789 -m u32 --u32 "0x0>>0x16&0x3c@0xc&0xffffff00=0x100100" -j DROP',
        '-A INPUT -p esp -j DROP',
      ]);
    },
    expect: [
      {
        id: 'host.firewall.ports',
        status: 'fail',
        node: 'nd2',
        detail: /^ESP \(encrypted overlay ndnet\) from nd1 and nd3 into nd2 is dropped by `-A INPUT -p esp -j DROP`/,
        remediation: /-p esp -j ACCEPT/,
      },
    ],
    absent: [{ id: 'host.firewall.ports', status: 'fail', node: 'nd2', detail: /udp\/4789/ }],
  },
  {
    name: 'encrypted overlay without esp4/xfrm_user on nodes that have its sandbox',
    mutate: (s) => {
      s.cluster.networks.find((n) => n.name === 'ndnet')!.encrypted = true;
    },
    expect: [
      {
        id: 'host.kernel.modules',
        status: 'fail',
        node: 'nd2',
        network: 'ndnet',
        detail: /esp4 and xfrm_user are not loaded .* encrypted overlay ndnet/,
        remediation: /modprobe -a esp4 xfrm_user/,
      },
    ],
  },
  {
    name: 'vxlan missing, no vxlan device in any sandbox',
    mutate: (s) => {
      host(s, 'nd2').modules.vxlan = false;
      for (const sb of node(s, 'nd2').sandboxes) sb.links = sb.links.filter((l) => l.kind !== 'vxlan');
    },
    expect: [
      {
        id: 'host.kernel.modules',
        status: 'fail',
        node: 'nd2',
        detail: /^vxlan is not loaded .*built into the kernel/,
        remediation: /modprobe -a vxlan/,
      },
    ],
  },
  {
    name: 'IPVS present (no finding for ip_vs), no service needing it',
    mutate: (s) => {
      s.cluster.services = [];
    },
    expect: [{ id: 'host.kernel.modules', status: 'pass', node: 'nd1', detail: /IPVS not needed/ }],
  },
  {
    name: 'manager not listening on 2377, gossip bound to loopback',
    mutate: (s) => {
      const l = host(s, 'nd1').listening;
      if ('unavailable' in l) throw new Error('fixture');
      host(s, 'nd1').listening = l
        .filter((x) => x.port !== 2377)
        .map((x) => (x.port === 7946 && x.proto === 'tcp' ? { ...x, address: '127.0.0.1' } : x));
    },
    expect: [
      { id: 'host.listen.ports', status: 'fail', node: 'nd1', detail: /nothing listens on tcp\/2377/ },
      { id: 'host.listen.ports', status: 'fail', node: 'nd1', detail: /tcp\/7946 listens only on 127\.0\.0\.1/ },
    ],
  },
  {
    name: 'ss unavailable',
    mutate: (s) => {
      host(s, 'nd3').listening = { unavailable: true, reason: 'ss: command not found' };
    },
    expect: [{ id: 'host.listen.ports', status: 'skip', node: 'nd3', detail: /ss: command not found/ }],
  },
  {
    name: 'vmxnet3 NIC with tx-checksum-ip-generic on',
    mutate: (s) => {
      const n = node(s, 'nd1');
      n.raw['host/ethtool'] = {
        stdout:
          '## eth0 vmxnet3\ntx-checksumming: on\n\ttx-checksum-ipv4: off [fixed]\n\ttx-checksum-ip-generic: on\ntcp-segmentation-offload: on\ngeneric-segmentation-offload: on\ntx-udp_tnl-segmentation: on',
        stderr: '',
        rc: 0,
      };
      rebuild(s, 'nd1');
    },
    expect: [
      {
        id: 'host.offload.vxlan-checksum',
        status: 'warn',
        node: 'nd1',
        detail: /eth0 on nd1 \(vmxnet3, carries the advertise address 10\.213\.0\.11\) has tx-checksum-ip-generic on/,
        remediation: /ethtool -K eth0 tx-checksum-ip-generic off/,
      },
    ],
  },
  {
    name: 'ethtool missing',
    mutate: (s) => {
      host(s, 'nd2').offload = { unavailable: true, reason: 'ethtool: command not found' };
    },
    expect: [{ id: 'host.offload.vxlan-checksum', status: 'skip', node: 'nd2', detail: /ethtool: command not found/ }],
  },
  {
    name: 'clock 42 s ahead on nd3',
    mutate: (s) => {
      host(s, 'nd3').clock!.node += 42;
    },
    expect: [
      {
        id: 'host.clock.skew',
        status: 'warn',
        node: 'nd3',
        peer: 'nd1',
        detail: /42\.0 s ahead of the nodes' median/,
        remediation: /timedatectl set-ntp true/,
      },
      { id: 'host.clock.skew', status: 'pass', node: 'nd1' },
    ],
  },
  {
    name: 'clock 2 h behind on nd2',
    mutate: (s) => {
      host(s, 'nd2').clock!.node -= 7200;
    },
    expect: [{ id: 'host.clock.skew', status: 'fail', node: 'nd2', peer: 'nd1', detail: /120\.0 min behind/ }],
  },
  {
    name: 'clock skew within the measurement error',
    mutate: (s) => {
      host(s, 'nd3').clock!.node += 5.3;
    },
    expect: [{ id: 'host.clock.skew', status: 'pass', node: 'nd3' }],
  },
];

describe('host checks on faults', () => {
  it.each(cases)('$name', ({ mutate, expect: want, absent }) => {
    const s = lab();
    mutate(s);
    const fs = run(s);
    expect(fs.filter((f) => f.status === 'error')).toEqual([]);
    for (const w of want) {
      expectOne(fs, w);
    }
    for (const a of absent ?? []) {
      expect(matching(fs, a)).toEqual([]);
    }
  });

  it('an uncollected node fails once, in host.node.reachable', () => {
    const s = lab();
    makeUnreachable(s, 'nd3', 'connect', 'connect ECONNREFUSED 10.213.0.13:22');
    const fs = run(s).filter((f) => f.node === 'nd3');
    expect(fs.filter((f) => f.status === 'fail').map((f) => f.id)).toEqual(['host.node.reachable']);
    for (const c of hostChecks.filter((c) => c.meta.id !== 'host.node.reachable')) {
      expect(
        of(fs, c.meta.id).map((f) => f.status),
        c.meta.id,
      ).toEqual(['skip']);
    }
  });

  it('a partly collected node warns in host.node.reachable', () => {
    const s = lab();
    const n = node(s, 'nd2');
    n.status = 'partial';
    n.errors = [{ stage: 'exec', kind: 'truncated', message: 'collection output ended early; the snapshot of this node is partial' }];
    expect(of(run(s), 'host.node.reachable', 'nd2')).toMatchObject([{ status: 'warn', detail: expect.stringContaining('ended early') }]);
  });
});
