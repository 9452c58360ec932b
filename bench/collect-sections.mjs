#!/usr/bin/env node
// Node CPU of one collection, section by section (issue 13: < 0.3 s per run).
// The collect script exactly as the client builds it (dist/), run N times on
// a lab node through `lab.sh exec NODE -- sh -s` (read-only, as over SSH but
// without sshd), with `sec` wrapped to read the shell's own and its reaped
// children's CPU from /proc/$$/stat around each section (10 ms ticks, so
// averaged over the runs). Prints the whole script's CPU (median) and the
// sections that cost most, sandbox sections summed over the sandboxes.
// The script's options are the client's (src/collect/collect.ts), from the lab
// swarm's own facts: the last hour of logs, its underlay peers, its DNS plan.
// BASELINE=DIR runs that checkout's script (its dist/ built) in the same rounds.
// Usage (root, lab up, after npm run build): node bench/collect-sections.mjs [NODE] [RUNS]
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import Dockerode from 'dockerode';
import { collectClusterFacts, scriptOptionsFor } from '../dist/collect/collect.js';
import { buildCollectScript } from '../dist/collect/script.js';
import { labState, machineLine, median } from './lib.mjs';

const node = process.argv[2] ?? 'nd1';
const runs = Number(process.argv[3] ?? 10);
const LAB_SH = fileURLToPath(new URL('../test/lab/lab.sh', import.meta.url));
// The options the client gives the script (src/collect/collect.ts), from the lab's own swarm.
const manager = labState().nodes.find((n) => n.role === 'manager');
const cluster = await collectClusterFacts(new Dockerode({ socketPath: manager.dockerSocket }));
const scriptOptions = scriptOptionsFor(cluster);
const hook = `
ndcpu() { read -r st </proc/$$/stat; set -- \${st#*) }; shift 11; C=$(( $1 + $2 + $3 + $4 )); }
sec() { ndcpu; c0=$C; sec0 "$@"; ndcpu; printf 'CPU %s %s\\n' "$1" $((C - c0)) >&2; }
ndsandbox() { ndcpu; b0=$C; ndsandbox0 "$@"; ndcpu; printf 'CPU netns/%s/(all-sections) %s\\n' "$1" $((C - b0)) >&2; }
ndcpu; printf 'START %s\\n' $C >&2
`;
/** The script with the CPU hook around every section (and every sandbox batch, where the script has them). */
function hooked(script) {
  // Function replacers: a replacement string would read `$$` and `$1` as patterns.
  let s = script.replace(/\nsec\(\) \{/, () => '\nsec0() {');
  s = s.replace(/\nndsandbox\(\) \{/, () => '\nndsandbox0() {');
  s = s.replace(/\nnssec\(\) \{[^\n]*\n/, (m) => m + hook);
  s += `\nndcpu; printf 'END %s\\n' $C >&2\n`;
  if (!s.includes('sec0() {') || !s.includes('START')) throw new Error('the collect script changed: the section hook could not be placed');
  return s;
}
// BASELINE=DIR: another checkout's dist/ (e.g. the commit before a change), its script run in the same rounds.
const builds = [{ name: 'this build', script: hooked(buildCollectScript(scriptOptions).script), totals: [], per: new Map() }];
if (process.env.BASELINE) {
  const base = await import(`${process.env.BASELINE.replace(/\/$/, '')}/dist/collect/script.js`);
  builds.push({
    name: `baseline ${process.env.BASELINE}`,
    script: hooked(base.buildCollectScript(scriptOptions).script),
    totals: [],
    per: new Map(),
  });
}

console.log(`collect script CPU by section on ${node}, ${runs} runs; ${new Date().toISOString()}`);
console.log(`machine: ${machineLine()}`);
for (let i = 0; i < runs; i++) {
  for (const b of builds) {
    const r = spawnSync('bash', [LAB_SH, 'exec', node, '--', 'sh', '-s'], { input: b.script, encoding: 'utf8', maxBuffer: 256 << 20 });
    const st = Number(/^START (\d+)$/m.exec(r.stderr)?.[1]);
    const en = Number(/^END (\d+)$/m.exec(r.stderr)?.[1]);
    b.totals.push((en - st) * 10);
    for (const m of r.stderr.matchAll(/^CPU (\S+) (\d+)$/gm)) {
      const k = m[1].replace(/^netns\/[^/]+\//, 'netns/*/');
      b.per.set(k, (b.per.get(k) ?? 0) + Number(m[2]) * 10);
    }
  }
}
for (const b of builds) {
  console.log(
    `${b.name}: whole script (shell + children): median ${median(b.totals)} ms, min ${Math.min(...b.totals)}, max ${Math.max(...b.totals)}`,
  );
  for (const [k, v] of [...b.per].sort((x, y) => y[1] - x[1]).slice(0, 20)) console.log(`  ${(v / runs).toFixed(1).padStart(6)} ms  ${k}`);
}
