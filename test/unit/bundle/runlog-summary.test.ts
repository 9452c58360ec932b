import { describe, expect, it } from 'vitest';
import { readBundle } from '../../../src/bundle/read.js';
import { describeRun, RunLog } from '../../../src/bundle/runlog.js';
import { renderBundleSummary, summariseBundle } from '../../../src/bundle/summary.js';
import { labBundle, labRun, tempDir } from './helpers.js';

describe('netdoctor.log', () => {
  it('tells the run: start, discovery, each node with timings and failed sections, probes, findings, warnings', () => {
    const { snapshot, report } = labRun();
    const start = new Date(snapshot.startedAt);
    const log = new RunLog();
    log.warn('host key of nd3 accepted on first use', new Date(start.getTime() + 200));
    const text = describeRun(log, {
      argv: ['bundle', '--no-probe'],
      toolVersion: '0.0.0-test',
      startedAt: start,
      endedAt: new Date(start.getTime() + 5000),
      options: ['probes off'],
      snapshot,
      report,
    }).render(start);
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^2026-11-25T15:12:00.000Z \+ +0.000s INFO {2}\[start\] docker-netdoctor 0.0.0-test: bundle --no-probe$/);
    expect(text).toMatch(/\[discover\] cluster \w+: 3 nodes \(nd1 manager ready, nd2 worker ready, nd3 worker ready\)/);
    expect(text).toMatch(
      /\[collect\] nd2 \(root@10\.213\.0\.12:22\): ok in 550 ms \(connect 50 ms, script 500 ms, node CPU [^)]+\); \d+ sections, \d+ sandboxes \(\d overlay\), namespaces direct/,
    );
    expect(text).toMatch(/\[collect\] nd2: \d+ section\(s\) exited non-zero or were cut short: .*ipvs \(exit 3: IPVS is not available/);
    expect(text).toContain('[probe] skipped (--no-probe)');
    expect(text).toMatch(/\[analyse\] \d+ findings: \d+ failed/);
    expect(text).toContain('[analyse] fail service.ingress.ipvs-available [nd1]');
    expect(text).toMatch(/WARN {2}\[warning\] host key of nd3 accepted on first use/);
    // In time order: the warning (at +0.2 s) comes before the end.
    expect(lines.findIndex((l) => l.includes('[warning]'))).toBeLessThan(lines.findIndex((l) => l.includes('[end]')));
  });
});

describe('bundle inspect', () => {
  it('summarises tool, time, cluster, nodes with status, redaction, finding counts, files', async () => {
    const t = tempDir();
    try {
      const b = labBundle(true);
      const file = t.file('b.tar.gz', b.data);
      const s = summariseBundle('b.tar.gz', await readBundle(file));
      const { report } = labRun();
      expect(s).toMatchObject({
        tool: { name: 'docker-netdoctor', version: '0.0.0-test' },
        createdAt: '2026-11-25T15:12:05.000Z',
        durationMs: 5000,
        redactIps: true,
        findings: report.summary,
        files: b.files.length,
        compressedBytes: b.data.length,
        probes: false,
      });
      expect(s.nodes.map((n) => `${n.name} ${n.status}`)).toEqual(['node-1 ok', 'node-2 ok', 'node-3 ok']);
      const text = renderBundleSummary(s);
      expect(text).toMatch(/^Bundle +b\.tar\.gz \(format 1, snapshot schema 1\)$/m);
      expect(text).toMatch(/^Nodes +node-1 ok, node-2 ok, node-3 ok$/m);
      expect(text).toMatch(new RegExp(`^Findings +${report.summary.fail} failed, ${report.summary.warn} warnings`, 'm'));
      expect(text).toMatch(/^IPs\/hostnames +pseudonymised/m);
      expect(text).toMatch(new RegExp(`^Files +${b.files.length} files`, 'm'));
    } finally {
      t.cleanup();
    }
  });
});
