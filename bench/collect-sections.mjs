#!/usr/bin/env node
// Node CPU of one collection, section by section (issue 13: < 0.3 s per run).
// The collect script exactly as the client builds it (dist/), run N times on
// a lab node through `lab.sh exec NODE -- sh -s` (read-only, as over SSH but
// without sshd), with `sec` wrapped to read the shell's own and its reaped
// children's CPU from /proc/$$/stat around each section (10 ms ticks, so
// averaged over the runs). Prints the whole script's CPU (median) and the
// sections that cost most, sandbox sections summed over the sandboxes.
// Usage (root, lab up, after npm run build): node bench/collect-sections.mjs [NODE] [RUNS]
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { buildCollectScript, LOG_DEFAULTS } from '../dist/collect/script.js';
import { machineLine, median } from './lib.mjs';

const node = process.argv[2] ?? 'nd1';
const runs = Number(process.argv[3] ?? 10);
const LAB_SH = fileURLToPath(new URL('../test/lab/lab.sh', import.meta.url));
const { script } = buildCollectScript({
  dockerLog: { lines: LOG_DEFAULTS.lines, since: LOG_DEFAULTS.sinceSec, bytes: LOG_DEFAULTS.bytes },
  dataPathPort: 4789,
  encryptedPrefixes: [],
});
const hook = `
ndcpu() { read -r st </proc/$$/stat; set -- \${st#*) }; shift 11; C=$(( $1 + $2 + $3 + $4 )); }
sec() { ndcpu; c0=$C; sec0 "$@"; ndcpu; printf 'CPU %s %s\\n' "$1" $((C - c0)) >&2; }
ndcpu; printf 'START %s\\n' $C >&2
`;
// Function replacers: a replacement string would read `$$` and `$1` as patterns.
let s = script.replace(/\nsec\(\) \{/, () => '\nsec0() {');
s = s.replace(/\nnssec\(\) \{[^\n]*\n/, (m) => m + hook);
s += `\nndcpu; printf 'END %s\\n' $C >&2\n`;
if (!s.includes('sec0() {') || !s.includes('START')) throw new Error('the collect script changed: the section hook could not be placed');

console.log(`collect script CPU by section on ${node}, ${runs} runs; ${new Date().toISOString()}`);
console.log(`machine: ${machineLine()}`);
const per = new Map();
const totals = [];
for (let i = 0; i < runs; i++) {
  const r = spawnSync('bash', [LAB_SH, 'exec', node, '--', 'sh', '-s'], { input: s, encoding: 'utf8', maxBuffer: 256 << 20 });
  const st = Number(/^START (\d+)$/m.exec(r.stderr)?.[1]);
  const en = Number(/^END (\d+)$/m.exec(r.stderr)?.[1]);
  totals.push((en - st) * 10);
  for (const m of r.stderr.matchAll(/^CPU (\S+) (\d+)$/gm)) {
    const k = m[1].replace(/^netns\/[^/]+\//, 'netns/*/');
    per.set(k, (per.get(k) ?? 0) + Number(m[2]) * 10);
  }
}
console.log(`whole script (shell + children): median ${median(totals)} ms, min ${Math.min(...totals)}, max ${Math.max(...totals)}`);
for (const [k, v] of [...per].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.log(`  ${(v / runs).toFixed(1).padStart(6)} ms  ${k}`);
