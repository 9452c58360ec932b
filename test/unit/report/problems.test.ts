import { describe, expect, it } from 'vitest';
import { runChecks } from '../../../src/checks/runner.js';
import type { Finding } from '../../../src/checks/types.js';
import type { ProbeResults } from '../../../src/probe/types.js';
import { buildReport } from '../../../src/report/model.js';
import { buildProblems } from '../../../src/report/problems.js';
import { renderJunit, renderMarkdown, renderText } from '../../../src/report/render.js';
import type { ClusterSnapshot } from '../../../src/snapshot/types.js';
import { labAtScale, probesFor } from '../../support/lab-scale.js';
import { lab, setSection, withHostTables, withQuietLogs } from '../../support/lab-mutate.js';
import { withSandboxReads } from '../../support/sandbox-reads.js';

const reportOf = (snapshot: ClusterSnapshot, probes: ProbeResults | null) =>
  buildReport(snapshot, runChecks({ snapshot, probes }), '0.0.0-test', new Date('2026-11-25T15:12:00Z'), 4000);
const lines = (t: string) => t.split('\n').length;

describe('problems, not rows', () => {
  it('the lab as recorded: one IPVS problem with its consequences under it, the pool warning once, in ≤ 25 lines', () => {
    const s = withHostTables(withSandboxReads(withQuietLogs(lab())));
    const r = reportOf(
      s,
      probesFor(s, () => false),
    );
    // (The synthetic probes hold no data-path pings: overlay.datapath.mtu says so in a skip of its own.)
    const roots = r.problems.filter((p) => p.causedBy === null && p.status !== 'skip');
    expect(roots.map((p) => [p.id, p.status, p.nodes])).toEqual([
      ['host.kernel.modules:ipvs', 'fail', ['nd1', 'nd2', 'nd3']],
      ['cluster.subnets.overlap:pool', 'warn', ['nd1', 'nd2', 'nd3']],
    ]);
    const ipvs = r.problems.find((p) => p.check === 'service.ingress.ipvs-available')!;
    expect(ipvs.causedBy).toBe('host.kernel.modules:ipvs');
    // The skips that say "see service.ingress.ipvs-available" hang under it.
    const skips = r.problems.filter((p) => p.status === 'skip' && p.detail.includes('see service.ingress.ipvs-available'));
    expect(skips.reduce((n, p) => n + p.findings, 0)).toBeGreaterThanOrEqual(4);
    for (const p of skips) expect(p.causedBy).toBe(ipvs.id);
    const t = renderText(r, { color: false });
    expect(lines(t)).toBeLessThanOrEqual(25);
    // IPVS is one numbered problem; every other mention is under it.
    expect(t.split('\n').filter((l) => /^\S+ \d+\. /.test(l) && /IPVS|ipvs|kernel\.modules/.test(l))).toHaveLength(1);
    expect(t).toContain('fix: On nd1, nd2 and nd3: `modprobe -a ip_vs ip_vs_rr xt_mark');
    expect(t).toContain('Port probes: every probed pair of the 3 nodes passed');
    // JSON keeps every finding.
    expect(r.findings.length).toBeGreaterThan(100);
    // -v prints every row besides.
    expect(lines(renderText(r, { color: false, verbose: true }))).toBeGreaterThan(lines(t) + r.summary.fail + r.summary.skip);
  });

  it('the lab with the IPVS line each dockerd really logs: one problem, the log finding under it, not one per node', () => {
    // The lines nd1, nd2 and nd3 wrote to /var/log/docker.log in a `npm run demo` run on the lab (2026-11-29),
    // each at its own time: the findings differ only in the node and the times.
    const at = { nd1: '17:42:47.036754054', nd2: '17:42:47.524737203', nd3: '17:42:47.210105565' };
    const s = withHostTables(withSandboxReads(withQuietLogs(lab())));
    for (const [node, time] of Object.entries(at)) {
      setSection(s, node, 'host/docker-log', {
        stdout: `time="2026-11-29T17:42:41.676803904Z" level=info msg="Starting up"\ntime="2026-11-29T${time}Z" level=error msg="Could not get ipvs family information from the kernel. It is possible that ipvs is not enabled in your kernel. Native loadbalancing will not work until this is fixed."\n`,
        stderr: 'docker log: /var/log/docker.log (last 1000 lines)\n',
        rc: 0,
      });
    }
    const r = reportOf(
      s,
      probesFor(s, () => false),
    );
    const logged = r.problems.filter((p) => p.check === 'log.lb.ipvs');
    expect(logged.map((p) => [p.nodes, p.findings, p.causedBy])).toEqual([[['nd1', 'nd2', 'nd3'], 3, 'service.ingress.ipvs-available:missingUsed']]);
    expect(r.problems.filter((p) => p.causedBy === null && p.status !== 'skip').map((p) => p.id)).toEqual([
      'host.kernel.modules:ipvs',
      'cluster.subnets.overlap:pool',
    ]);
    const t = renderText(r, { color: false });
    expect(lines(t)).toBeLessThanOrEqual(25);
    expect(t).toContain('     ↳ ✖ Load balancer programming — on nd1, nd2 and nd3  (log.lb.ipvs)');
    // The skips of one reason fold across checks; the line under the cause names every one of them.
    expect(t).toContain(
      '     ↳ - 6 checks skipped because of it on nd1, nd2 and nd3: service.ingress.dnat, service.ingress.mark, service.ingress.backends, service.vip.backends, service.ipvs.sysctls and service.ipvs.timeout',
    );
    expect(t.split('\n').filter((l) => /^\S+ \d+\. /.test(l) && /IPVS|ipvs|kernel\.modules|lb\.ipvs/.test(l))).toHaveLength(1);
  });

  it('30 nodes from the lab recording, udp/4789 blocked from nd5 to all others: one screen naming both problems and their nodes', () => {
    const s = withHostTables(withSandboxReads(withQuietLogs(labAtScale(30))));
    const r = reportOf(
      s,
      probesFor(s, (p) => p.from === 'nd5' && p.port === 4789),
    );
    const all = s.nodes.map((n) => n.name);
    const udp = r.problems.filter((p) => p.check === 'underlay.datapath.udp');
    expect(udp).toHaveLength(1);
    expect(udp[0]!.pairs).toEqual(all.filter((n) => n !== 'nd5').map((to) => ({ from: 'nd5', to })));
    expect(udp[0]!.remediation).toMatch(/^on nd1, nd2, .* and 21 more: iptables -I INPUT -p udp --dport 4789 -s 10\.213\.0\.15 -j ACCEPT/);
    const pool = r.problems.filter((p) => p.check === 'cluster.subnets.overlap');
    expect(pool).toHaveLength(1);
    expect(pool[0]!.nodes).toEqual(all);
    expect(r.findings.filter((f) => f.id === 'underlay.datapath.udp' && f.status === 'fail')).toHaveLength(29);
    const t = renderText(r, { color: false });
    // 40 lines, plus the 3 of one skipped problem the lab's nodes really show: they are network namespaces, where
    // the kernel's neighbour table (host.tables.neighbours) cannot be read.
    expect(lines(t)).toBeLessThanOrEqual(40);
    expect(t).toContain('Overlay data-path port reachable (VXLAN over UDP) — from nd5 to 29 nodes  (underlay.datapath.udp)');
    expect(t).toContain('Overlay subnets do not overlap — on 30 nodes (nd1, nd2, nd3, nd4, nd5, nd6 and 24 more)  (cluster.subnets.overlap)');
    // The matrix keeps the one failing row.
    expect(t).toMatch(/\nnd5 +V +V +V/);
    // JUnit and Markdown follow the grouping: one testcase / one row per problem, not 29.
    const x = renderJunit(r);
    expect(x.match(/<testcase [^>]*name="underlay\.datapath\.udp[^"]*">\s*<failure/g)).toHaveLength(1);
    expect(x).toContain('name="underlay.datapath.udp from nd5 to 29 nodes"');
    expect((x.match(/<failure /g) ?? []).length).toBe(r.problems.filter((p) => p.status === 'fail').length);
    const m = renderMarkdown(r);
    expect(m.split('\n').filter((l) => l.startsWith('| ') && l.includes('(`underlay.datapath.udp`)'))).toHaveLength(1);
  });
});

describe('folding', () => {
  const f = (o: Partial<Finding>): Finding => ({
    id: 'host.sysctl.ip-forward',
    layer: 'host',
    status: 'fail',
    node: 'nd1',
    peer: null,
    network: null,
    title: 't',
    messageId: 'off',
    detail: 'net.ipv4.ip_forward is 0 on nd1 (10.0.0.1)',
    remediation: 'on nd1: sysctl -w net.ipv4.ip_forward=1',
    ...o,
  });
  const nodes = [
    { name: 'nd1', address: '10.0.0.1' },
    { name: 'nd10', address: '10.0.0.10' },
  ];

  it('sets aside the node’s own name and address, whole words only', () => {
    const ps = buildProblems(
      [f({}), f({ node: 'nd10', detail: 'net.ipv4.ip_forward is 0 on nd10 (10.0.0.10)', remediation: 'on nd10: sysctl -w net.ipv4.ip_forward=1' })],
      nodes,
    );
    expect(ps).toHaveLength(1);
    expect(ps[0]).toMatchObject({ nodes: ['nd1', 'nd10'], remediation: 'on nd1 and nd10: sysctl -w net.ipv4.ip_forward=1', findings: 2 });
    // Another node's name inside the detail is a different cause.
    const two = buildProblems([f({}), f({ node: 'nd10', detail: 'net.ipv4.ip_forward is 0 on nd10 (10.0.0.1)' })], nodes);
    expect(two).toHaveLength(2);
  });

  it('sets aside when and how often a log said it, and nothing else', () => {
    const seen = (node: string, count: number, first: string) =>
      f({
        id: 'log.gossip.flapping',
        layer: 'log',
        status: 'warn',
        node,
        messageId: 'seen',
        detail: `${node} suspected nd3 ${count} ${count === 1 ? 'time' : 'times'} since 2026-11-29T15:00:00Z, first at ${first}, last at 2026-11-29T15:50:00.5Z: gossip to nd3 is lost`,
        remediation: 'allow udp/7946',
      });
    const ps = buildProblems([seen('nd1', 41, '2026-11-29T15:10:00.5Z'), seen('nd10', 1, '2026-11-29T15:49:59.1Z')], nodes);
    expect(ps.map((p) => [p.nodes, p.findings])).toEqual([[['nd1', 'nd10'], 2]]);
    // The problem keeps a finding's own text.
    expect(ps[0]!.detail).toContain('41 times since 2026-11-29T15:00:00Z');
    // Another peer, or another number than a count, is another cause.
    const other = f({
      ...seen('nd10', 1, 'x'),
      detail: 'nd10 suspected nd1 1 time since 2026-11-29T15:00:00Z, first at x, last at y: gossip to nd1 is lost',
    });
    expect(buildProblems([seen('nd1', 41, 'x'), other], nodes)).toHaveLength(2);
    const mtu = (node: string, v: number) => f({ node, detail: `eth0 MTU ${v} on ${node}` });
    expect(buildProblems([mtu('nd1', 1400), mtu('nd10', 1450)], nodes)).toHaveLength(2);
  });

  it('keeps commands per node when an address differs in them', () => {
    const ps = buildProblems(
      [
        f({ remediation: 'ip route add 10.0.0.1' }),
        f({ node: 'nd10', detail: 'net.ipv4.ip_forward is 0 on nd10 (10.0.0.10)', remediation: 'ip route add 10.0.0.10' }),
      ],
      nodes,
    );
    expect(ps).toHaveLength(1);
    expect(ps[0]!.remediations).toEqual([
      { nodes: ['nd1'], remediation: 'ip route add 10.0.0.1' },
      { nodes: ['nd10'], remediation: 'ip route add 10.0.0.10' },
    ]);
  });
});
