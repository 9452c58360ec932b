#!/usr/bin/env node
// Node-side CPU of the control-plane reads (issue 13), side by side: the
// collection script as `check` sends it, and the same script without the
// node's own `network inspect --verbose` and the embedded-DNS queries, run
// alternately over SSH on every lab node, BENCH_RUNS times each; medians of
// the CPU the script's shell and its children used (`times`, meta/times).
// dockerd's own CPU answering the CLI is not in `times` (bench/collect.mjs meters it).
// Usage: node bench/ctlplane-cpu.mjs      (after npm run build, as root, lab up)
import { spawnSync } from 'node:child_process';
import Dockerode from 'dockerode';
import { buildClusterFacts, fetchClusterRaw } from '../dist/collect/cluster.js';
import { buildCollectScript, dnsPlan, dnsSections, LOG_DEFAULTS, networkViewSection } from '../dist/collect/script.js';
import { labSshOptions, labState, median, runs } from './lib.mjs';

const lab = labState();
const R = runs();
const manager = lab.nodes.find((n) => n.role === 'manager');
const facts = buildClusterFacts(await fetchClusterRaw(new Dockerode({ socketPath: manager.dockerSocket })));
const plan = dnsPlan(facts);
const opts = {
  dataPathPort: facts.dataPathPort,
  dns: plan,
  dockerLog: { lines: LOG_DEFAULTS.lines, bytes: LOG_DEFAULTS.bytes, since: Math.floor(Date.now() / 1000) - LOG_DEFAULTS.sinceSec },
};

/** Seconds of CPU in the script's `times` section (shell and children, user and system). */
function cpuOf(stdout, marker) {
  const times = stdout.split(`${marker} BEGIN meta/times`)[1]?.split(`${marker} END`)[0] ?? '';
  return [...times.matchAll(/([0-9]+)m([0-9.]+)s/g)].reduce((a, m) => a + Number(m[1]) * 60 + Number(m[2]), 0);
}

function runOn(node, script, marker) {
  const ssh = [...labSshOptions(lab), `root@${node.ip}`, 'sh -s'];
  const r = spawnSync('ssh', ssh, { input: script, encoding: 'utf8', maxBuffer: 64 * 2 ** 20, timeout: 60_000 });
  if (r.status !== 0) throw new Error(`${node.name}: ssh exited ${r.status}: ${r.stderr.split('\n')[0]}`);
  return cpuOf(r.stdout, marker);
}

console.log(`names asked per node: ${plan.reduce((a, p) => a + p.names.length, 0)}; runs: ${R}`);
for (const node of lab.nodes) {
  const cpu = { with: [], without: [] };
  for (let i = 0; i < R; i++) {
    const { script, marker } = buildCollectScript(opts);
    const without = script.replace(networkViewSection(), '').replace(dnsSections(plan), '');
    if (without === script) throw new Error('the control-plane blocks were not found in the script');
    cpu.with.push(runOn(node, script, marker));
    cpu.without.push(runOn(node, without, marker));
  }
  const w = median(cpu.with);
  const wo = median(cpu.without);
  console.log(`${node.name}: node CPU with ${w.toFixed(3)} s, without ${wo.toFixed(3)} s, control-plane reads ${(w - wo).toFixed(3)} s`);
}
