/**
 * Renderers: text (problems first; -v every row by layer and node), json (the
 * contract), junit (a testcase per problem and per pass), markdown, github,
 * html (html.ts). All fed by the same Report.
 *
 * Text and markdown are for people: every value in them goes through the
 * terminal sanitiser (control characters shown escaped, one line each), so a
 * node name or a node's output cannot paint over the report. JSON stays
 * exact; JUnit drops what XML forbids.
 */
import { LAYERS, type Finding, type Status } from '../checks/types.js';
import { sanitizeLine } from '../text/sanitize.js';
import { listText } from '../text/list.js';
import { renderHtml } from './html.js';
import { pairMatrix } from './matrix.js';
import { where, type Report } from './model.js';
import { placeText, type Problem } from './problems.js';

export const FORMATS = ['text', 'json', 'junit', 'markdown', 'github', 'html'] as const;
export type Format = (typeof FORMATS)[number];

const GLYPH: Record<Status, string> = { pass: '✔', warn: '!', fail: '✖', skip: '-', error: '✖' };
const COLOR: Record<Status, string> = { pass: '32', warn: '33', fail: '31', skip: '90', error: '35' };

export interface TextOptions {
  color: boolean;
  /** Show passing findings too (default: only counts). */
  verbose?: boolean;
}

/** Every row, layer by layer and node by node (the -v report). */
function renderRows(r: Report, o: TextOptions): string[] {
  const t = sanitizeLine;
  const paint = (s: Status, text: string) => (o.color ? `\u001b[${COLOR[s]}m${text}\u001b[0m` : text);
  const lines: string[] = [];
  for (const layer of LAYERS) {
    const fs = r.findings.filter((f) => f.layer === layer);
    if (fs.length === 0) continue;
    const shown = fs.filter((f) => o.verbose || f.status !== 'pass');
    const passes = fs.filter((f) => f.status === 'pass').length;
    lines.push(`${layer.toUpperCase()}  (${passes}/${fs.length} passed)`);
    // Grouped by node (cluster-wide findings first), in the order nodes were listed.
    const order = new Map(r.cluster.nodes.map((n, i) => [n.name, i]));
    const rank = (f: Finding) => (f.node === null ? -1 : (order.get(f.node) ?? r.cluster.nodes.length));
    const sorted = shown.map((f, i) => ({ f, i })).sort((a, b) => rank(a.f) - rank(b.f) || a.i - b.i);
    let group: string | null | undefined;
    for (const { f } of sorted) {
      if (f.node !== group) {
        group = f.node;
        lines.push(`  ${group === null ? 'cluster-wide' : t(group)}`);
      }
      const loc = [
        f.service ? `service ${f.service}` : null,
        f.peer ? `→ ${f.peer}` : null,
        f.network ? `network ${f.network}` : null,
        f.location ? `${f.location.file}:${f.location.line}` : null,
      ]
        .filter(Boolean)
        .join(', ');
      lines.push(`    ${paint(f.status, GLYPH[f.status])} ${t(f.title)}${loc ? ` [${t(loc)}]` : ''}  (${t(f.id)})`);
      if (f.status !== 'pass') {
        if (f.detail) lines.push(`        ${t(f.detail)}`);
        if (f.remediation && f.status !== 'skip') lines.push(`        fix: ${t(f.remediation)}`);
      }
    }
  }
  return lines;
}

const countLine = (r: Report): string => {
  const s = r.summary;
  return `${s.pass} passed, ${s.warn} warnings, ${s.fail} failed, ${s.skip} skipped, ${s.error} errors  (${r.cluster.nodes.length} nodes, ${(r.durationMs / 1000).toFixed(1)} s)`;
};

/** One line: each layer's passed/total. */
export function layerSummary(r: Report): string {
  const parts: string[] = [];
  for (const layer of LAYERS) {
    const fs = r.findings.filter((f) => f.layer === layer);
    if (fs.length > 0) parts.push(`${layer} ${fs.filter((f) => f.status === 'pass').length}/${fs.length}`);
  }
  return `passed by layer: ${parts.join(' · ')}`;
}

/** At most this many distinct per-node remediations are printed for one problem (the rest: -v). */
const MAX_FIXES = 3;

/**
 * The text report: problems first, ordered by impact, each with where it is,
 * one detail and one remediation (per node only where the commands differ),
 * what follows from it indented under it; then a pair matrix of the probes,
 * a layer summary and the counts. `-v` prints every row as well.
 */
export function renderText(r: Report, o: TextOptions): string {
  const t = sanitizeLine;
  const paint = (s: Status, text: string) => (o.color ? `\u001b[${COLOR[s]}m${text}\u001b[0m` : text);
  const lines: string[] = o.verbose ? [...renderRows(r, o), ''] : [];
  const byId = new Map(r.problems.map((p) => [p.id, p]));
  const roots = r.problems.filter((p) => p.causedBy === null);
  const count = (st: Status) => roots.filter((p) => p.status === st).length;
  if (roots.length === 0) {
    lines.push('No problems found.');
  } else {
    const parts = [
      count('fail') ? `${count('fail')} failing` : '',
      count('error') ? `${count('error')} errors` : '',
      count('warn') ? `${count('warn')} ${count('warn') === 1 ? 'warning' : 'warnings'}` : '',
      count('skip') ? `${count('skip')} skipped` : '',
    ].filter(Boolean);
    lines.push(`${roots.length === 1 ? '1 problem' : `${roots.length} problems`}: ${parts.join(', ')}`);
  }
  const descendants = (p: Problem): Problem[] => p.consequences.flatMap((id) => [byId.get(id)!, ...descendants(byId.get(id)!)]);
  // What could not be looked at is no problem to fix: one line each, after the problems.
  const unchecked = roots.filter((p) => p.status === 'skip');
  roots
    .filter((p) => p.status !== 'skip')
    .forEach((p, i) => {
      lines.push('');
      lines.push(`${paint(p.status, GLYPH[p.status])} ${i + 1}. ${t(p.title)} — ${t(placeText(p))}  (${t(p.check)})`);
      if (p.detail) lines.push(`     ${t(p.detail)}`);
      if (p.status !== 'skip') {
        const distinct = p.remediations.length;
        if (distinct <= 1 || p.remediation !== p.remediations[0]?.remediation) {
          if (p.remediation) lines.push(`     fix: ${t(p.remediation)}`);
        } else {
          for (const x of p.remediations.slice(0, MAX_FIXES)) lines.push(`     fix: ${t(x.remediation)}`);
          if (distinct > MAX_FIXES) lines.push(`     … ${distinct - MAX_FIXES} more fixes of the same form (-v lists every one)`);
        }
      }
      const follows = descendants(p);
      const failing = follows.filter((q) => q.status !== 'skip');
      const skipped = follows.filter((q) => q.status === 'skip');
      for (const q of failing) lines.push(`     ↳ ${paint(q.status, GLYPH[q.status])} ${t(q.title)} — ${t(placeText(q))}  (${t(q.check)})`);
      if (skipped.length > 0) {
        const ids = [...new Set(skipped.flatMap((q) => q.checks))];
        const order = new Map(r.cluster.nodes.map((n, k) => [n.name, k]));
        const nodes = [...new Set(skipped.flatMap((q) => q.nodes))].sort((a, b) => (order.get(a) ?? order.size) - (order.get(b) ?? order.size));
        lines.push(
          `     ↳ ${paint('skip', GLYPH.skip)} ${ids.length === 1 ? '1 check' : `${ids.length} checks`} skipped because of it${nodes.length ? ` ${t(placeText({ nodes, pairs: [], networks: [] }))}` : ''}: ${t(listText(ids, 6))}`,
        );
      }
    });
  if (unchecked.length > 0) {
    lines.push('', `Not checked (${unchecked.length}; -v lists every row):`);
    for (const p of unchecked) lines.push(`  ${paint('skip', GLYPH.skip)} ${t(p.title)} — ${t(placeText(p))}  (${t(p.check)}): ${t(p.detail)}`);
  }
  const matrix = pairMatrix(r);
  if (matrix.length > 0) lines.push('', ...matrix);
  lines.push('', layerSummary(r), countLine(r));
  return lines.join('\n');
}

export const renderJson = (r: Report): string => `${JSON.stringify(r, null, 2)}\n`;

const xml = (s: string): string =>
  s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    // XML 1.0 forbids most control characters.

    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');

const caseName = (f: Finding): string => [f.id, where(f)].filter(Boolean).join(' ');

/** Where a problem is: as a finding's place when it is one finding, else the folded place ("on nd1, nd2 and nd3"). */
const problemWhere = (p: Problem): string =>
  p.findings === 1
    ? [p.pairs[0] ? `${p.pairs[0].from} → ${p.pairs[0].to}` : (p.nodes[0] ?? null), p.networks[0] ? `network ${p.networks[0]}` : null]
        .filter(Boolean)
        .join(', ')
    : placeText(p);
const problemCaseName = (p: Problem): string => [p.check, problemWhere(p)].filter(Boolean).join(' ');

export function renderJunit(r: Report): string {
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const total = (st: Status) => r.problems.filter((p) => p.status === st).length;
  const tests = r.summary.pass + r.problems.length;
  out.push(
    `<testsuites name="docker-netdoctor" tests="${tests}" failures="${total('fail')}" errors="${total('error')}" skipped="${total('skip')}" time="${(r.durationMs / 1000).toFixed(3)}">`,
  );
  for (const layer of LAYERS) {
    const fs = r.findings.filter((f) => f.layer === layer);
    if (fs.length === 0) continue;
    const ps = r.problems.filter((p) => p.layer === layer);
    const count = (st: Status) => ps.filter((p) => p.status === st).length;
    const tests = fs.filter((f) => f.status === 'pass').length + ps.length;
    out.push(
      `  <testsuite name="${layer}" tests="${tests}" failures="${count('fail')}" errors="${count('error')}" skipped="${count('skip')}" timestamp="${r.startedAt}">`,
    );
    // Passes one testcase per finding; everything else one testcase per problem (findings folded across nodes and pairs).
    for (const f of fs.filter((x) => x.status === 'pass'))
      out.push(`    <testcase classname="netdoctor.${xml(f.layer)}" name="${xml(caseName(f))}"></testcase>`);
    for (const p of r.problems.filter((x) => x.layer === layer)) {
      const open = `    <testcase classname="netdoctor.${xml(p.layer)}" name="${xml(problemCaseName(p))}">`;
      const cause = p.causedBy === null ? '' : `follows from ${p.causedBy}: `;
      const message = `${cause}${p.detail}`;
      const body = `${p.title}\n${placeText(p)}\n${cause}${p.detail}${p.remediation ? `\nremediation: ${p.remediation}` : ''}${p.remediations.length > 1 ? `\n${p.remediations.map((x) => `  ${x.remediation}`).join('\n')}` : ''}`;
      if (p.status === 'fail') {
        out.push(open, `      <failure message="${xml(message)}" type="${xml(p.check)}">${xml(body)}</failure>`, '    </testcase>');
      } else if (p.status === 'error') {
        out.push(open, `      <error message="${xml(message)}" type="${xml(p.check)}">${xml(body)}</error>`, '    </testcase>');
      } else if (p.status === 'skip') {
        out.push(open, `      <skipped message="${xml(message)}"/>`, '    </testcase>');
      } else {
        // Warnings pass in JUnit (they do not fail a CI gate unless --strict) but stay visible.
        out.push(open, `      <system-out>${xml(`WARNING: ${body}`)}</system-out>`, '    </testcase>');
      }
    }
    out.push('  </testsuite>');
  }
  out.push('</testsuites>');
  return `${out.join('\n')}\n`;
}

const md = (s: string): string => sanitizeLine(s.replace(/\|/g, '\\|').replace(/\n/g, ' '));

/** A CommonMark code span around any text: a fence longer than any backtick run inside, padded when the text touches a backtick. */
export function codeSpan(s: string): string {
  const longest = Math.max(0, ...[...s.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  const pad = s.startsWith('`') || s.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${s}${pad}${fence}`;
}

/** A remediation in a table cell: prose that marks its own commands stays as written; a bare command becomes a code span. */
const mdRemediation = (s: string): string => (s.includes('`') ? md(s) : codeSpan(md(s)));

export function renderMarkdown(r: Report): string {
  const s = r.summary;
  const out: string[] = [
    '# docker netdoctor report',
    '',
    `Cluster \`${md(r.cluster.id ?? 'unknown')}\`, ${r.cluster.nodes.length} nodes, ${md(r.startedAt)}, netdoctor ${md(r.tool.version)}.`,
    '',
    `**${s.fail} failed, ${s.warn} warnings, ${s.error} errors**, ${s.pass} passed, ${s.skip} skipped.`,
    '',
  ];
  if (r.problems.length > 0) {
    // One row per problem (findings folded across nodes and pairs), by impact; what follows from a problem right under it.
    out.push('## Problems', '', '| | check | where | detail | remediation |', '|---|---|---|---|---|');
    for (const p of r.problems) {
      const cause = p.causedBy === null ? '' : `↳ follows from \`${p.causedBy}\`: `;
      out.push(
        `| ${GLYPH[p.status]} ${p.status} | ${cause ? '↳ ' : ''}${md(p.title)} (\`${p.check}\`) | ${md(problemWhere(p))} | ${cause}${md(p.detail)} | ${p.remediation && p.status !== 'skip' ? mdRemediation(p.remediation) : ''} |`,
      );
    }
    out.push('');
  }
  out.push('## Nodes', '', '| name | role | address |', '|---|---|---|');
  for (const n of r.cluster.nodes) out.push(`| ${md(n.name)} | ${md(n.role)} | ${md(n.address ?? '')} |`);
  out.push('', '## Passed', '');
  for (const f of r.findings.filter((x) => x.status === 'pass')) out.push(`- ${md(f.title)} (\`${f.id}\`)${where(f) ? ` — ${md(where(f))}` : ''}`);
  return `${out.join('\n')}\n`;
}

/** GitHub Actions workflow-command escaping: data, and property values (which also escape : and ,). */
const ghData = (s: string): string => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
const ghProp = (s: string): string => ghData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');

/**
 * GitHub Actions workflow commands: one annotation per failure (error) and
 * warning, on the user's file and line when the finding has one, then a
 * notice with the summary.
 */
export function renderGithub(r: Report): string {
  const out: string[] = [];
  for (const f of r.findings) {
    const level = f.status === 'fail' || f.status === 'error' ? 'error' : f.status === 'warn' ? 'warning' : null;
    if (level === null) continue;
    const props = [
      f.location ? `file=${ghProp(f.location.file)},line=${f.location.line}` : null,
      `title=${ghProp(`${f.id}${where(f, false) ? ` (${where(f, false)})` : ''}`)}`,
    ]
      .filter(Boolean)
      .join(',');
    out.push(`::${level} ${props}::${ghData(`${f.detail}${f.remediation ? `\nfix: ${f.remediation}` : ''}`)}`);
  }
  const s = r.summary;
  out.push(
    `::notice title=docker netdoctor::${ghData(`${s.fail} failed, ${s.warn} warnings, ${s.error} errors, ${s.pass} passed, ${s.skip} skipped`)}`,
  );
  return `${out.join('\n')}\n`;
}

const RENDERERS: Record<Format, (r: Report, text: TextOptions) => string> = {
  text: (r, o) => `${renderText(r, o)}\n`,
  json: renderJson,
  junit: renderJunit,
  markdown: renderMarkdown,
  github: renderGithub,
  html: renderHtml,
};

export const render = (r: Report, format: Format, text: TextOptions): string => RENDERERS[format](r, text);
