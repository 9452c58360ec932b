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
ndcpu() { read -r st </proc/$$/stat; set -- \${st#*) }; shift 11; C=$(( $1 + $2 + $3 + $4 )); read -r _ _ _ _ P </proc/loadavg; }
sec() { ndcpu; c0=$C; p0=$P; sec0 "$@"; ndcpu; printf 'CPU %s %s %s\\n' "$1" $((C - c0)) $((P - p0)) >&2; }
ndsandbox() { ndcpu; b0=$C; q0=$P; ndsandbox0 "$@"; ndcpu; printf 'CPU netns/%s/(all-sections) %s %s\\n' "$1" $((C - b0)) $((P - q0)) >&2; }
ndcpu; printf 'START %s %s\\n' $C $P >&2
`;
// The same inside each sandbox's own sh (sandboxBatch: a single-quoted word, so no ' here), to fd 5,
// as the batch's stderr goes to /dev/null: the sections of a sandbox one by one.
const sbHook = `
ndcpu() { read -r st </proc/$$/stat; set -- \${st#*) }; shift 11; C=$(( $1 + $2 + $3 + $4 )); read -r _ _ _ _ P </proc/loadavg; }
sec() { ndcpu; c0=$C; p0=$P; sec0 "$@"; ndcpu; printf "CPU %s %s %s\\n" "$1" $((C - c0)) $((P - p0)) >&5; }
`;
/** The script with the CPU hook around every section (and every sandbox batch, where the script has them). */
function hooked(script) {
  // Function replacers: a replacement string would read `$$` and `$1` as patterns.
  // Every `sec() {`: the prelude's and the sandbox batch's (which then gets its own hook after its sec).
  let s = script.replace(/\nsec\(\) \{/g, () => '\nsec0() {');
  s = s.replace(/\nndipvs\(\) \{/, (m) => sbHook + m);
  s = s.replace(/\nndsandbox\(\) \{/, () => '\nndsandbox0() {');
  s = s.replace(/\nnssec\(\) \{[^\n]*\n/, (m) => m + 'exec 5>&2\n' + hook);
  s += `\nndcpu; printf 'END %s %s\\n' $C $P >&2\n`;
  if (!s.includes('sec0() {') || !s.includes('START') || !s.includes('>&5'))
    throw new Error('the collect script changed: the section hook could not be placed');
  return s;
}
// BASELINE=DIR: another checkout's dist/ (e.g. the commit before a change), its script run in the same rounds.
const builds = [{ name: 'this build', script: hooked(buildCollectScript(scriptOptions).script), totals: [], pids: [], per: new Map() }];
if (process.env.BASELINE) {
  const base = await import(`${process.env.BASELINE.replace(/\/$/, '')}/dist/collect/script.js`);
  builds.push({
    name: `baseline ${process.env.BASELINE}`,
    script: hooked(base.buildCollectScript(scriptOptions).script),
    totals: [],
    pids: [],
    per: new Map(),
  });
}

/** Sandbox sections summed by kind (as src/snapshot/sandboxes.ts classifies them). */
const sandboxKind = (sb) =>
  sb === 'ingress_sbox' ? sb : /^\d+-/.test(sb) ? '1-*' : sb.startsWith('lb_') ? 'lb_*' : /^[0-9a-f]{12}$/.test(sb) ? '(container)' : '(other)';
console.log(`collect script CPU by section on ${node}, ${runs} runs; ${new Date().toISOString()}`);
console.log(`machine: ${machineLine()}`);
for (let i = 0; i < runs; i++) {
  for (const b of builds) {
    const r = spawnSync('bash', [LAB_SH, 'exec', node, '--', 'sh', '-s'], { input: b.script, encoding: 'utf8', maxBuffer: 256 << 20 });
    const st = /^START (\d+) (\d+)$/m.exec(r.stderr);
    const en = /^END (\d+) (\d+)$/m.exec(r.stderr);
    b.totals.push((Number(en?.[1]) - Number(st?.[1])) * 10);
    // PIDs the node's PID namespace handed out over the run (/proc/loadavg's last pid): the script's
    // processes and subshells, plus whatever else forked on the node meanwhile (little: dockerd threads).
    b.pids.push(Number(en?.[2]) - Number(st?.[2]));
    for (const m of r.stderr.matchAll(/^CPU (\S+) (\d+) (\d+)$/gm)) {
      const k = m[1].replace(/^netns\/([^/]+)\//, (_, sb) => `netns/${sandboxKind(sb)}/`);
      const cur = b.per.get(k) ?? { ms: 0, pids: 0 };
      b.per.set(k, { ms: cur.ms + Number(m[2]) * 10, pids: cur.pids + Number(m[3]) });
    }
  }
}
for (const b of builds) {
  console.log(
    `${b.name}: whole script (shell + children): median ${median(b.totals)} ms, min ${Math.min(...b.totals)}, max ${Math.max(...b.totals)}; processes (pids) median ${median(b.pids)}`,
  );
  console.log('  CPU/run  pids/run  section (sandbox sections summed by kind)');
  for (const [k, v] of [...b.per].sort((x, y) => y[1].ms - x[1].ms || y[1].pids - x[1].pids).slice(0, Number(process.env.BENCH_TOP ?? 40)))
    console.log(`  ${(v.ms / runs).toFixed(1).padStart(6)} ms  ${(v.pids / runs).toFixed(1).padStart(6)}  ${k}`);
}
