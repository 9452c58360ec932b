import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { Finding } from '../../../src/checks/types.js';
import { buildReport, reportFailed } from '../../../src/report/model.js';
import { renderJson, renderJunit, renderMarkdown, renderText } from '../../../src/report/render.js';
import { labSnapshot } from '../../support/lab-fixtures.js';

const f = (o: Partial<Finding>): Finding => ({
  id: 'overlay.fdb.missing',
  layer: 'overlay',
  status: 'fail',
  node: 'nd2',
  peer: 'nd3',
  network: 'ndnet',
  title: 'FDB has every remote task',
  messageId: 'missing',
  detail: 'no FDB entry for 10.0.1.4 (web.2) on nd3 <&"x">',
  remediation: 'docker service update --force web',
  ...o,
});

const findings: Finding[] = [
  f({}),
  f({
    id: 'host.sysctl.ip-forward',
    layer: 'host',
    status: 'pass',
    peer: null,
    network: null,
    title: 'IP forwarding on',
    detail: 'ok',
    remediation: '',
  }),
  f({
    id: 'host.mountns.separate',
    layer: 'host',
    status: 'warn',
    peer: null,
    network: null,
    title: 'dockerd mount namespace',
    detail: 'MountFlags=slave',
    remediation: 'remove MountFlags',
  }),
  f({
    id: 'underlay.mtu.path',
    layer: 'underlay',
    status: 'skip',
    node: null,
    peer: null,
    network: null,
    title: 'Path MTU',
    detail: 'probes not run',
    remediation: '',
  }),
];
const report = buildReport(labSnapshot('healthy'), findings, '1.2.3', new Date('2026-11-25T15:00:00Z'), 4200);

describe('report model', () => {
  it('matches the documented JSON contract', () => {
    const j = JSON.parse(renderJson(report));
    expect(Object.keys(j)).toEqual(['schemaVersion', 'tool', 'startedAt', 'durationMs', 'cluster', 'summary', 'findings', 'problems']);
    expect(j).toMatchObject({
      schemaVersion: 1,
      tool: { name: 'docker-netdoctor', version: '1.2.3' },
      startedAt: '2026-11-25T15:00:00.000Z',
      durationMs: 4200,
    });
    expect(j.cluster.nodes).toContainEqual({ name: 'nd1', id: expect.any(String), address: '10.213.0.11', role: 'manager' });
    expect(j.summary).toEqual({ pass: 1, warn: 1, fail: 1, skip: 1, error: 0 });
    expect(Object.keys(j.findings[0])).toEqual(['id', 'layer', 'status', 'node', 'peer', 'network', 'title', 'messageId', 'detail', 'remediation']);
    expect(j.problems.map((p: { id: string }) => p.id)).toEqual([
      'overlay.fdb.missing:missing',
      'host.mountns.separate:missing',
      'underlay.mtu.path:missing',
    ]);
    expect(j.problems[0]).toMatchObject({
      check: 'overlay.fdb.missing',
      status: 'fail',
      nodes: ['nd2', 'nd3'],
      pairs: [{ from: 'nd2', to: 'nd3' }],
      networks: ['ndnet'],
      causedBy: null,
    });
    for (const k of ['id', 'check', 'status', 'nodes', 'pairs', 'networks', 'causedBy', 'title', 'remediation'])
      expect(Object.keys(j.problems[0])).toContain(k);
  });

  it('fails on failures, and on warnings only with --strict', () => {
    expect(reportFailed(report, false)).toBe(true);
    const warnOnly = buildReport(
      labSnapshot('healthy'),
      findings.filter((x) => x.status !== 'fail'),
      '1',
      new Date(),
      1,
    );
    expect(reportFailed(warnOnly, false)).toBe(false);
    expect(reportFailed(warnOnly, true)).toBe(true);
  });
});

describe('renderers', () => {
  it('text: problems by impact with where and fix, a layer line and a closing count line; -v every row grouped by layer', () => {
    const t = renderText(report, { color: false });
    expect(t.split('\n').slice(0, 5)).toEqual([
      '3 problems: 1 failing, 1 warning, 1 skipped',
      '',
      '✖ 1. FDB has every remote task — nd2 → nd3 (network ndnet)  (overlay.fdb.missing)',
      '     no FDB entry for 10.0.1.4 (web.2) on nd3 <&"x">',
      '     fix: docker service update --force web',
    ]);
    expect(t).toContain('! 2. dockerd mount namespace — on nd2  (host.mountns.separate)');
    expect(t).toContain('Not checked (1; -v lists every row):\n  - Path MTU — cluster-wide  (underlay.mtu.path): probes not run');
    expect(t).toContain('passed by layer: host 1/2 · underlay 0/1 · overlay 0/1');
    expect(t).not.toContain('IP forwarding on');
    const v = renderText(report, { color: false, verbose: true });
    expect(v).toContain('IP forwarding on');
    expect(v).toContain('OVERLAY  (0/1 passed)\n  nd2\n    ✖ FDB has every remote task [→ nd3, network ndnet]  (overlay.fdb.missing)');
    expect(v).toContain('UNDERLAY  (0/1 passed)\n  cluster-wide\n    - Path MTU');
    expect(t.trim().split('\n').at(-1)).toMatch(/^1 passed, 1 warnings, 1 failed, 1 skipped, 0 errors/);
    expect(t).not.toContain('\u001b[');
    expect(renderText(report, { color: true })).toContain('\u001b[31m✖');
  });

  it('junit: well-formed XML, one testcase per finding, failures/skips/warnings typed', () => {
    const x = renderJunit(report);
    const py = spawnSync(
      'python3',
      [
        '-c',
        'import sys,xml.etree.ElementTree as E; r=E.fromstring(sys.stdin.read()); print(len(r.findall(".//testcase")), len(r.findall(".//failure")), len(r.findall(".//skipped")), r.get("failures"))',
      ],
      { input: x, encoding: 'utf8' },
    );
    expect(py.stderr).toBe('');
    expect(py.stdout.trim()).toBe('4 1 1 1');
    expect(x).toContain('name="overlay.fdb.missing nd2 → nd3, network ndnet"');
    expect(x).toContain('&lt;&amp;&quot;x&quot;&gt;');
    expect(x).toContain('WARNING: dockerd mount namespace');
  });

  it('markdown: problems table with remediation, nodes, passes', () => {
    const m = renderMarkdown(report);
    expect(m).toContain('**1 failed, 1 warnings, 0 errors**');
    expect(m).toMatch(/\| ✖ fail \| FDB has every remote task \(`overlay.fdb.missing`\) \| nd2 → nd3, network ndnet \|/);
    expect(m).toContain('| nd1 | manager | 10.213.0.11 |');
    expect(m).toContain('- IP forwarding on (`host.sysctl.ip-forward`)');
  });
});

describe('markdown remediations', () => {
  it('every command in a remediation renders as code and no backtick is left as text (markdown-it)', async () => {
    const { default: MarkdownIt } = await import('markdown-it');
    const findings = [
      f({
        remediation:
          'on nd2: nsenter --net=/var/run/docker/netns/1-abc bridge fdb replace 02:42:0a:00:01:0f dev vxlan0 dst 10.213.0.13 self permanent',
      }),
      f({ id: 'host.dockerd.running', remediation: 'On nd2: `systemctl start docker`, then `journalctl -u docker -n 100` for why it stopped' }),
      f({ id: 'host.x.y', remediation: 'printf `a` | tee ``b``' }),
    ];
    const md = renderMarkdown(buildReport(labSnapshot('healthy'), findings, '0.0.0', new Date(), 1));
    const html = new MarkdownIt().render(md);
    expect(html).toContain('<code>on nd2: nsenter --net=/var/run/docker/netns/1-abc bridge fdb replace');
    expect(html).toContain('<code>systemctl start docker</code>');
    expect(html).toContain('<code>journalctl -u docker -n 100</code>');
    const text = html.replace(/<code>[\s\S]*?<\/code>/g, '');
    expect(text).not.toContain('`');
  });
});
