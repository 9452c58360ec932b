/**
 * `--format html`: one self-contained page for support (inline CSS and a few
 * lines of inline script for the copy buttons; nothing is fetched when it is
 * opened): the summary, the problems by impact with their remediations, the
 * pair matrix of the port probes, each node's findings and the run's timing.
 * Every value is HTML-escaped; the page sets a Content-Security-Policy that
 * forbids any network access.
 */
import { LAYERS, type Status } from '../checks/types.js';
import { sanitizeLine } from '../text/sanitize.js';
import { buildPairMatrix, type PairCell } from './matrix.js';
import type { Report } from './model.js';
import { placeText, type Problem } from './problems.js';

const esc = (s: string): string =>
  sanitizeLine(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

const GLYPH: Record<Status, string> = { pass: '✔', warn: '!', fail: '✖', skip: '–', error: '✖' };

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 10px;border-bottom:1px solid #d8dce3;padding-bottom:4px}
.meta{color:#5b6475}
.counts{display:flex;gap:10px;margin:14px 0}.counts span{padding:6px 12px;border-radius:6px;background:#fff;border:1px solid #d8dce3}
.fail,.error{color:#b42318}.warn{color:#a15c07}.skip{color:#6b7280}.pass{color:#067647}
section.problem{color:#1d2330}
.problem{background:#fff;border:1px solid #d8dce3;border-left:5px solid #b42318;border-radius:6px;padding:10px 14px;margin:10px 0}
.problem.warn{border-left-color:#dc8a0e}.problem.skip{border-left-color:#9ca3af}
.problem h3{font-size:15px;margin:0}.problem .where{color:#374151;margin:2px 0 6px}.problem .id{color:#6b7280;font-family:ui-monospace,monospace;font-size:12px}
.fix{display:flex;gap:8px;align-items:flex-start;margin:6px 0}.fix code{flex:1;white-space:pre-wrap;word-break:break-all;background:#f1f3f6;padding:6px 8px;border-radius:4px;font-size:12.5px}
button.copy{font-size:12px;padding:3px 8px;cursor:pointer}
ul.follows{margin:6px 0 0 0;padding-left:18px;color:#374151}
table{border-collapse:collapse;background:#fff}td,th{border:1px solid #d8dce3;padding:3px 7px;text-align:left;font-size:13px}
table.matrix td.cell{text-align:center;font-family:ui-monospace,monospace;min-width:22px}
td.cell.ok{background:#ecfdf3}td.cell.fail{background:#fee4e2;color:#b42318;font-weight:600}td.cell.warn{background:#fef0c7}td.cell.self{background:#eef0f3}
details{background:#fff;border:1px solid #d8dce3;border-radius:6px;margin:6px 0;padding:6px 10px}summary{cursor:pointer}
`;

const SCRIPT = `document.addEventListener('click',function(e){var b=e.target;if(!b||!b.classList||!b.classList.contains('copy'))return;var c=b.parentNode.querySelector('code');if(!c)return;var t=c.textContent||'';var done=function(){b.textContent='copied';setTimeout(function(){b.textContent='copy'},1500)};if(navigator.clipboard&&navigator.clipboard.writeText){navigator.clipboard.writeText(t).then(done,function(){})}else{var r=document.createRange();r.selectNodeContents(c);var s=getSelection();s.removeAllRanges();s.addRange(r);document.execCommand('copy');done()}});`;

function fixHtml(p: Problem): string {
  if (p.status === 'skip' || !p.remediation) return '';
  const one = (label: string, cmd: string) =>
    `<div class="fix">${label ? `<span>${esc(label)}</span>` : ''}<code>${esc(cmd)}</code><button class="copy" type="button">copy</button></div>`;
  if (p.remediations.length > 1 && p.remediation === p.remediations[0]?.remediation) {
    return p.remediations.map((x) => one('', x.remediation)).join('');
  }
  return one('', p.remediation);
}

function matrixHtml(r: Report): string {
  const m = buildPairMatrix(r);
  if (!m) return '<p>No port probes were recorded (run without --no-probe, or a snapshot without probe results).</p>';
  const cell = (c: PairCell): string => {
    if (c.from === c.to) return '<td class="cell self">·</td>';
    const title = `${c.from} → ${c.to}`;
    if (c.state === 'none') return `<td class="cell none" title="${esc(title)}: not probed"></td>`;
    if (c.state === 'ok') return `<td class="cell ok" title="${esc(title)}: every port ok">.</td>`;
    const marks = [...c.failed, ...c.unconfirmed.map((x) => `${x}?`)].join('');
    return `<td class="cell ${c.state}" title="${esc(title)}">${esc(marks)}</td>`;
  };
  const head = `<tr><th>from \\ to</th>${m.nodes.map((n) => `<th>${esc(n)}</th>`).join('')}</tr>`;
  const rows = m.rows.map((row, i) => `<tr><th>${esc(m.nodes[i]!)}</th>${row.map(cell).join('')}</tr>`).join('');
  const legend = `. every probed port ok · ${m.marks.map((x) => `${x.mark} ${x.port}`).join(' · ')} failed · ? unconfirmed · blank not probed`;
  return `<table class="matrix" data-nodes="${m.nodes.length}">${head}${rows}</table><p class="meta">${esc(legend)}</p>`;
}

export function renderHtml(r: Report): string {
  const s = r.summary;
  const byId = new Map(r.problems.map((p) => [p.id, p]));
  const roots = r.problems.filter((p) => p.causedBy === null);
  const descendants = (p: Problem): Problem[] => p.consequences.flatMap((id) => [byId.get(id)!, ...descendants(byId.get(id)!)]);
  const problems = roots
    .map((p, i) => {
      const follows = descendants(p);
      const list =
        follows.length > 0
          ? `<ul class="follows">${follows.map((q) => `<li class="consequence"><span class="${q.status}">${GLYPH[q.status]}</span> ${esc(q.title)} — ${esc(placeText(q))} <span class="id">${esc(q.check)}</span></li>`).join('')}</ul>`
          : '';
      return `<section class="problem ${p.status}" data-problem="${esc(p.id)}"><h3><span class="${p.status}">${GLYPH[p.status]}</span> ${i + 1}. ${esc(p.title)}</h3><div class="where">${esc(placeText(p))} <span class="id">${esc(p.check)}</span></div><div>${esc(p.detail)}</div>${fixHtml(p)}${list}</section>`;
    })
    .join('\n');
  const layers = LAYERS.map((layer) => {
    const fs = r.findings.filter((f) => f.layer === layer);
    return fs.length === 0 ? '' : `<tr><td>${layer}</td><td>${fs.filter((f) => f.status === 'pass').length}/${fs.length}</td></tr>`;
  }).join('');
  const nodes = r.cluster.nodes
    .map((n) => {
      const fs = r.findings.filter((f) => f.node === n.name);
      const bad = fs.filter((f) => f.status !== 'pass');
      const count = (st: Status) => fs.filter((f) => f.status === st).length;
      const rows = bad
        .map(
          (f) =>
            `<tr><td class="${f.status}">${GLYPH[f.status]} ${f.status}</td><td>${esc(f.id)}</td><td>${esc([f.peer ? `→ ${f.peer}` : '', f.network ? `network ${f.network}` : ''].filter(Boolean).join(', '))}</td><td>${esc(f.detail)}</td></tr>`,
        )
        .join('');
      return `<details class="node"><summary><b>${esc(n.name)}</b> ${esc(n.role)} ${esc(n.address ?? '')} — ${count('pass')} passed, ${count('fail') + count('error')} failed, ${count('warn')} warnings, ${count('skip')} skipped</summary>${rows ? `<table><tr><th></th><th>check</th><th>where</th><th>detail</th></tr>${rows}</table>` : '<p>nothing but passes</p>'}</details>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>docker netdoctor report</title><style>${CSS}</style></head>
<body><main>
<h1>docker netdoctor report</h1>
<div class="meta">cluster ${esc(r.cluster.id ?? 'unknown')} · ${r.cluster.nodes.length} nodes · ${esc(r.startedAt)} · netdoctor ${esc(r.tool.version)}</div>
<div class="counts" id="summary"><span class="problems"><b id="problem-count">${roots.length}</b> problems</span><span class="fail">${s.fail} failed</span><span class="warn">${s.warn} warnings</span><span class="error">${s.error} errors</span><span class="pass">${s.pass} passed</span><span class="skip">${s.skip} skipped</span></div>
<h2>Problems</h2>
${problems || '<p>No problems found.</p>'}
<h2>Port probes</h2>
${matrixHtml(r)}
<h2>Nodes</h2>
${nodes}
<h2>Layers and timing</h2>
<table><tr><th>layer</th><th>passed</th></tr>${layers}</table>
<p class="meta">run took ${(r.durationMs / 1000).toFixed(1)} s; ${r.findings.length} findings folded into ${r.problems.length} problems (${roots.length} causes). The JSON report (--format json) holds every finding.</p>
</main><script>${SCRIPT}</script></body></html>
`;
}
