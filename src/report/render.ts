/**
 * Renderers: text (summary grouped by layer and node), json (the contract),
 * junit (one testcase per check and node/pair), markdown. All fed by the
 * same Report.
 *
 * Text and markdown are for people: every value in them goes through the
 * terminal sanitiser (control characters shown escaped, one line each), so a
 * node name or a node's output cannot paint over the report. JSON stays
 * exact; JUnit drops what XML forbids.
 */
import { LAYERS, type Finding, type Status } from '../checks/types.js';
import { sanitizeLine } from '../text/sanitize.js';
import { where, type Report } from './model.js';

export const FORMATS = ['text', 'json', 'junit', 'markdown'] as const;
export type Format = (typeof FORMATS)[number];

const GLYPH: Record<Status, string> = { pass: '✔', warn: '!', fail: '✖', skip: '-', error: '✖' };
const COLOR: Record<Status, string> = { pass: '32', warn: '33', fail: '31', skip: '90', error: '35' };

export interface TextOptions {
  color: boolean;
  /** Show passing findings too (default: only counts). */
  verbose?: boolean;
}

export function renderText(r: Report, o: TextOptions): string {
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
      const loc = [f.peer ? `→ ${f.peer}` : null, f.network ? `network ${f.network}` : null].filter(Boolean).join(', ');
      lines.push(`    ${paint(f.status, GLYPH[f.status])} ${t(f.title)}${loc ? ` [${t(loc)}]` : ''}  (${t(f.id)})`);
      if (f.status !== 'pass') {
        if (f.detail) lines.push(`        ${t(f.detail)}`);
        if (f.remediation && f.status !== 'skip') lines.push(`        fix: ${t(f.remediation)}`);
      }
    }
  }
  const s = r.summary;
  lines.push('');
  lines.push(`${s.pass} passed, ${s.warn} warnings, ${s.fail} failed, ${s.skip} skipped, ${s.error} errors  (${r.cluster.nodes.length} nodes, ${(r.durationMs / 1000).toFixed(1)} s)`);
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
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');

const caseName = (f: Finding): string => [f.id, where(f)].filter(Boolean).join(' ');

export function renderJunit(r: Report): string {
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const s = r.summary;
  out.push(
    `<testsuites name="docker-netdoctor" tests="${r.findings.length}" failures="${s.fail}" errors="${s.error}" skipped="${s.skip}" time="${(r.durationMs / 1000).toFixed(3)}">`,
  );
  for (const layer of LAYERS) {
    const fs = r.findings.filter((f) => f.layer === layer);
    if (fs.length === 0) continue;
    const count = (st: Status) => fs.filter((f) => f.status === st).length;
    out.push(
      `  <testsuite name="${layer}" tests="${fs.length}" failures="${count('fail')}" errors="${count('error')}" skipped="${count('skip')}" timestamp="${r.startedAt}">`,
    );
    for (const f of fs) {
      const open = `    <testcase classname="netdoctor.${xml(f.layer)}" name="${xml(caseName(f))}">`;
      const body = `${f.title}\n${f.detail}${f.remediation ? `\nremediation: ${f.remediation}` : ''}`;
      if (f.status === 'pass') {
        out.push(`${open}</testcase>`);
      } else if (f.status === 'fail') {
        out.push(open, `      <failure message="${xml(f.detail)}" type="${xml(f.id)}">${xml(body)}</failure>`, '    </testcase>');
      } else if (f.status === 'error') {
        out.push(open, `      <error message="${xml(f.detail)}" type="${xml(f.id)}">${xml(body)}</error>`, '    </testcase>');
      } else if (f.status === 'skip') {
        out.push(open, `      <skipped message="${xml(f.detail)}"/>`, '    </testcase>');
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
  const problems = r.findings.filter((f) => f.status !== 'pass');
  if (problems.length > 0) {
    out.push('## Problems', '', '| | check | where | detail | remediation |', '|---|---|---|---|---|');
    for (const f of problems) {
      out.push(`| ${GLYPH[f.status]} ${f.status} | ${md(f.title)} (\`${f.id}\`) | ${md(where(f))} | ${md(f.detail)} | ${f.remediation ? `\`${md(f.remediation)}\`` : ''} |`);
    }
    out.push('');
  }
  out.push('## Nodes', '', '| name | role | address |', '|---|---|---|');
  for (const n of r.cluster.nodes) out.push(`| ${md(n.name)} | ${md(n.role)} | ${md(n.address ?? '')} |`);
  out.push('', '## Passed', '');
  for (const f of r.findings.filter((x) => x.status === 'pass')) out.push(`- ${md(f.title)} (\`${f.id}\`)${where(f) ? ` — ${md(where(f))}` : ''}`);
  return `${out.join('\n')}\n`;
}

const RENDERERS: Record<Format, (r: Report, text: TextOptions) => string> = {
  text: (r, o) => `${renderText(r, o)}\n`,
  json: renderJson,
  junit: renderJunit,
  markdown: renderMarkdown,
};

export const render = (r: Report, format: Format, text: TextOptions): string => RENDERERS[format](r, text);
