/**
 * The report people read, on the real lab through the real docker CLI with
 * the plugin installed: the text report of the lab as it is (no IPVS in this
 * kernel) fits one screen and names IPVS once, with what follows from it
 * under it; `-v` prints every row. Then a support bundle of the lab with a
 * real fault (udp/4789 dropped by an iptables rule in nd3's namespace): its
 * report.html, opened in Debian's headless Chromium inside a network
 * namespace with no interface at all, renders the same problems as the JSON
 * of the same bundle, a 3×3 pair matrix, and names the rule on nd3.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labDown, labEnsure, nodeExec, type LabState } from '../lab/lab.js';
import { readBundle } from '../../src/bundle/read.js';
import type { Report } from '../../src/report/model.js';
import { BIN, docker, pluginConfigDir, run, type RunResult } from './support/cli.js';
import { managerHost } from './support/netdoctor.js';

let lab: LabState;
let cfg: { dir: string; cleanup: () => void };
let tmp: string;

beforeAll(async () => {
  // A fresh lab: the report of the lab as it is must not hold what earlier files did to it (dockerd's lines
  // about their faults, a path MTU cached from an MTU fault), only what this kernel lacks.
  if (process.env.ND_LAB_REUSE !== '1') await labDown();
  lab = await labEnsure();
  cfg = await pluginConfigDir();
  tmp = mkdtempSync(join(tmpdir(), 'nd-report-'));
});
afterAll(() => {
  cfg?.cleanup();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** `docker -H <manager> netdoctor <args>` with the lab's key and known_hosts, as an operator runs it. */
const viaDocker = (args: string[]): Promise<RunResult> =>
  docker(cfg.dir, ['-H', managerHost(lab), 'netdoctor', ...args, '--identity', lab.sshKey, '--known-hosts', lab.knownHosts, '--ssh-config', 'none'], {
    SSH_AUTH_SOCK: '',
  });

const reportLines = (stdout: string): string[] => stdout.replace(/\n+$/, '').split('\n');
/** A numbered problem line of the text report: "✖ 1. Title — where  (check)". */
const ROOT = /^\S+ \d+\. /;

describe('the text report of the lab as it is', () => {
  let r: RunResult;
  beforeAll(async () => {
    r = await viaDocker([]);
  });

  it('prints at most 25 lines below the staged progress', () => {
    expect(r.code, r.stderr).toBe(1);
    // The staged progress is on stderr, the report alone on stdout.
    expect(r.stderr).toMatch(/Analyse: \d+ findings/);
    const lines = reportLines(r.stdout);
    expect(lines[0]).toMatch(/^\d+ problems?: /);
    // The lab's nodes share this machine's kernel, so its log (dmesg, no wall-clock times) holds what any
    // other lab or test did on it, e.g. a 60-node lab overflowing the neighbour table: that one problem,
    // folded across the nodes (4 lines), is the machine's, not the lab's, and is not counted.
    const kernel = lines.filter((l) => ROOT.test(l) && l.endsWith('(log.kernel.tables)'));
    expect(kernel.length).toBeLessThanOrEqual(1);
    const machine = kernel.length === 0 ? 0 : lines.slice(lines.indexOf(kernel[0]!) - 1).findIndex((l, i) => i > 0 && l === '');
    expect(lines.length - machine, r.stdout).toBeLessThanOrEqual(25);
  });

  it('names IPVS once as the problem, with its consequences under it', () => {
    const lines = reportLines(r.stdout);
    const roots = lines.filter((l) => ROOT.test(l));
    const ipvs = roots.filter((l) => /IPVS|ipvs|kernel\.modules|lb\.ipvs/.test(l));
    expect(ipvs, r.stdout).toHaveLength(1);
    expect(ipvs[0]).toMatch(/^✖ 1\. .* — on nd1, nd2 and nd3 {2}\(host\.kernel\.modules\)$/);
    // Nothing else of the lab's fails (the kernel log is the machine's: see above).
    expect(
      roots.filter((l) => l.startsWith('✖') && !l.endsWith('(log.kernel.tables)')),
      r.stdout,
    ).toHaveLength(1);
    const at = lines.indexOf(ipvs[0]!);
    const next = lines.findIndex((l, i) => i > at && l === '');
    const block = lines.slice(at, next);
    expect(block).toContainEqual(expect.stringMatching(/^ {5}fix: On nd1, nd2 and nd3: `modprobe -a ip_vs ip_vs_rr xt_mark/));
    expect(block).toContain(
      '     ↳ ✖ IPVS is available for the routing mesh and service VIPs — on nd1, nd2 and nd3  (service.ingress.ipvs-available)',
    );
    // dockerd's own "Could not get ipvs family information" line on each node is the same cause, folded under it.
    expect(block).toContain('     ↳ ✖ Load balancer programming — on nd1, nd2 and nd3  (log.lb.ipvs)');
    expect(block).toContainEqual(expect.stringMatching(/^ {5}↳ - \d+ checks? skipped because of it on nd1, nd2 and nd3: service\.ingress\.dnat/));
    expect(lines.filter((l) => l.includes('(log.lb.ipvs)'))).toHaveLength(1);
  });

  it('-v prints every row as well', async () => {
    const v = await viaDocker(['-v']);
    expect(v.code, v.stderr).toBe(1);
    const lines = reportLines(v.stdout);
    const counts = /^(\d+) passed, (\d+) warnings, (\d+) failed, (\d+) skipped, (\d+) errors {2}\(3 nodes, /.exec(lines.at(-1)!);
    expect(counts, lines.at(-1)).not.toBeNull();
    const total = counts!.slice(1).reduce((a, x) => a + Number(x), 0);
    const rows = lines.filter((l) => /^ {4}[✔!✖-] .*\([a-z0-9.-]+\)$/.test(l));
    expect(rows).toHaveLength(total);
    expect(rows.filter((l) => l.startsWith('    ✔'))).toHaveLength(Number(counts![1]));
    // Every node's rows, and then the same problems as without -v.
    for (const n of lab.nodes) expect(lines).toContain(`  ${n.name}`);
    expect(lines.filter((l) => ROOT.test(l) && /kernel\.modules/.test(l))).toHaveLength(1);
  });
});

const chromium = ['chromium', 'chromium-browser'].find((c) => spawnSync(c, ['--version'], { encoding: 'utf8' }).status === 0);

/** The DOM Chromium built from the file, in a fresh network namespace (no interface, not even lo up): nothing can be fetched. */
function domOffline(file: string): string {
  const r = spawnSync('unshare', ['--net', '--', chromium!, '--headless', '--no-sandbox', '--disable-gpu', '--dump-dom', `file://${file}`], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}
const count = (s: string, re: RegExp) => (s.match(re) ?? []).length;

describe.skipIf(!chromium)('the HTML report of a real bundle, udp/4789 dropped on nd3', () => {
  const RULE = 'INPUT -p udp --dport 4789 -j DROP';
  let html: string;
  let dom: string;
  let json: Report;

  beforeAll(async () => {
    const file = join(tmp, 'fault.tar.gz');
    const add = await nodeExec('nd3', `iptables -I ${RULE}`);
    expect(add.code, add.stderr).toBe(0);
    try {
      const b = await viaDocker(['bundle', '-o', file]);
      expect(b.code, b.stderr).toBe(0);
    } finally {
      await nodeExec('nd3', `iptables -D ${RULE}`);
    }
    const bundle = await readBundle(file);
    const page = bundle.files.get('report.html');
    expect(page, 'report.html in the bundle').toBeDefined();
    html = page!.toString('utf8');
    const out = join(tmp, 'report.html');
    writeFileSync(out, html);
    dom = domOffline(out);
    // The JSON of the same bundle, offline: no daemon to reach.
    const j = await run(BIN, ['check', '--from-bundle', file, '--format', 'json'], {
      DOCKER_HOST: 'unix:///nonexistent/docker.sock',
      DOCKER_CONTEXT: '',
      SSH_AUTH_SOCK: '',
    });
    expect(j.code, j.stderr).toBe(1);
    json = JSON.parse(j.stdout) as Report;
  }, 240_000);

  it('renders with no network access: everything inline, a CSP that forbids fetching, the whole page built offline', () => {
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"`);
    expect(html).not.toMatch(/(src|href)\s*=\s*["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/url\(|@import/i);
    expect(dom).toContain('<h1>docker netdoctor report</h1>');
    expect(dom).toMatch(/<h2>Layers and timing<\/h2>[\s\S]*<\/main>/);
  });

  it('has as many problems as the JSON of the same bundle', () => {
    const roots = json.problems.filter((p) => p.causedBy === null);
    expect(dom).toContain(`<b id="problem-count">${roots.length}</b>`);
    expect(count(dom, /<section class="problem /g)).toBe(roots.length);
    expect(count(dom, /<section class="problem /g) + count(dom, /<li class="consequence"/g)).toBe(json.problems.length);
    for (const p of roots) expect(dom).toContain(`data-problem="${p.id}"`);
  });

  it('has a 3×3 pair matrix with nd1 → nd3 and nd2 → nd3 failing on the VXLAN port, every other pair ok', () => {
    expect(dom).toContain('<table class="matrix" data-nodes="3">');
    expect(count(dom, /<td class="cell /g)).toBe(3 * 3);
    expect(count(dom, /<td class="cell self"/g)).toBe(3);
    expect(dom).toMatch(/<td class="cell fail" title="nd1 → nd3">[^<]*V[^<]*<\/td>/);
    expect(dom).toMatch(/<td class="cell fail" title="nd2 → nd3">[^<]*V[^<]*<\/td>/);
    expect(count(dom, /<td class="cell fail"/g)).toBe(2);
    expect(count(dom, /<td class="cell ok"/g)).toBe(4);
  });

  it('names the injected rule on nd3, once, with the data-path failures under it', () => {
    const fw = json.problems.filter((p) => p.check === 'host.firewall.ports' && p.status === 'fail');
    expect(fw.map((p) => [p.nodes, p.causedBy])).toEqual([[['nd3'], null]]);
    const section = new RegExp(`<section class="problem fail" data-problem="${fw[0]!.id}">([\\s\\S]*?)</section>`).exec(dom);
    expect(section, dom).not.toBeNull();
    const s = section![1]!;
    expect(s).toMatch(/<div class="where">on nd3 /);
    expect(s).toContain('-A INPUT -p udp -m udp --dport 4789 -j DROP');
    // The fix removes that rule on nd3 (or lets the swarm's traffic past it), with real values, no placeholder.
    expect(s).toMatch(/<code>[^<]*nd3[^<]*4789[^<]*<\/code><button class="copy"/);
    expect(s).not.toMatch(/&lt;[a-z -]+&gt;/);
    // What the rule breaks hangs under it instead of beside it.
    expect(s).toMatch(/<li class="consequence">.*from nd1 and nd2 to nd3 <span class="id">underlay\.datapath\.udp<\/span>/);
    expect(count(dom, /<section class="problem [^"]*" data-problem="underlay\.datapath\.udp/g)).toBe(0);
  });
});
