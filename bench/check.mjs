#!/usr/bin/env node
// Full `check` benchmark (issue: check) on the lab, probes included:
//  - the real command end to end (`bin/docker-netdoctor check --format json`,
//    a process of its own, as an operator runs it): median wall time
//    (target < 5 s), BENCH_RUNS runs;
//  - the same pipeline in process, split by stage (discover, connect+collect,
//    probe, analyse), with the node-side CPU of the whole check per node and
//    the TCP connections per node (probes reuse the collection's sessions:
//    target 1), counted in a run of their own with `ss -tnp` on the host;
//  - probe time against the number of ordered node pairs (2 nodes → 2 pairs,
//    3 nodes → 6 pairs), to show it grows no worse than linearly with all of
//    a node's pairs probed concurrently.
// Usage: node bench/check.mjs      (after npm run build, as root, lab up)
import Dockerode from 'dockerode';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { collectClusterFacts, collectNode } from '../dist/collect/collect.js';
import { runChecks } from '../dist/checks/runner.js';
import { runProbes } from '../dist/probe/run.js';
import { resolveTargets } from '../dist/ssh/config.js';
import { buildNodeSnapshot } from '../dist/snapshot/node.js';
import { fmt, labState, machineLine, median, nodeMeter, runs, watchConnections } from './lib.mjs';

const lab = labState();
const R = runs();
const manager = lab.nodes.find((n) => n.role === 'manager');
const sshOpts = { identity: lab.sshKey, knownHostsFile: lab.knownHosts, sshConfigFile: 'none', user: 'root' };
const opts = { ssh: sshOpts, concurrency: 64, connectTimeoutMs: 10_000, nodeTimeoutMs: 60_000 };
const BIN = fileURLToPath(new URL('../bin/docker-netdoctor', import.meta.url));

/** The real command, as the e2e tests run it: exit 0 (all pass) or 1 (findings failed). */
function cli() {
  const args = [
    '-H',
    `unix://${manager.dockerSocket}`,
    'check',
    '--format',
    'json',
    '--identity',
    lab.sshKey,
    '--known-hosts',
    lab.knownHosts,
    '--ssh-config',
    'none',
  ];
  const env = { ...process.env, DOCKER_HOST: '', DOCKER_CONTEXT: '', SSH_AUTH_SOCK: '', NO_COLOR: '1' };
  return new Promise((resolve, reject) => {
    const t = performance.now();
    execFile(process.execPath, [BIN, ...args], { env, maxBuffer: 64 << 20, timeout: 120_000 }, (err, stdout, stderr) => {
      const wall = performance.now() - t;
      const code = err ? err.code : 0;
      if (code !== 0 && code !== 1) return reject(new Error(`check exited ${code}: ${stderr}`));
      const s = JSON.parse(stdout).summary;
      resolve({ wall, code, summary: s });
    });
  });
}

async function once(nodeNames, { watch = false } = {}) {
  const watcher = watch ? watchConnections() : null;
  await watcher?.start();
  const t0 = performance.now();
  const docker = new Dockerode({ socketPath: manager.dockerSocket });
  const facts = await collectClusterFacts(docker);
  const nodes = nodeNames ? facts.nodes.filter((n) => nodeNames.includes(n.name)) : facts.nodes;
  const t1 = performance.now();
  const targets = await resolveTargets(nodes, sshOpts);
  const meters = nodes.map((n) =>
    nodeMeter(
      lab,
      lab.nodes.find((x) => x.name === n.name),
    ),
  );
  for (const m of meters) m.start();
  const sessions = new Map();
  const results = await Promise.all(targets.map((t) => collectNode(t, null, facts, opts, (s) => sessions.set(t.node, s))));
  const snapshot = {
    schemaVersion: 1,
    tool: { name: 'docker-netdoctor', version: 'bench' },
    startedAt: new Date().toISOString(),
    durationMs: 0,
    endpoint: { host: 'bench', context: 'default' },
    cluster: { ...facts, nodes },
    nodes: results.map((r) => buildNodeSnapshot(r, facts.networks)),
  };
  const t2 = performance.now();
  try {
    snapshot.probes = await runProbes(snapshot, sessions, { timeoutSec: 2 });
  } finally {
    for (const s of sessions.values()) s.close();
  }
  const t3 = performance.now();
  const findings = runChecks({ snapshot, probes: snapshot.probes }, {});
  const t4 = performance.now();
  const node = await Promise.all(meters.map((m) => m.stop()));
  const conns = watcher ? (await watcher.stop()).connections : null;
  return {
    discover: t1 - t0,
    collect: t2 - t1,
    probe: t3 - t2,
    analyse: t4 - t3,
    total: t4 - t0,
    findings: findings.length,
    failed: findings.filter((f) => f.status === 'fail').length,
    pairs: nodes.length * (nodes.length - 1),
    perNode: Object.fromEntries(
      nodes.map((n, i) => [
        n.name,
        {
          cpu: node[i].sessionCpuMs + (node[i].dockerdCpuMs ?? 0),
          ss: conns?.get(lab.nodes.find((x) => x.name === n.name).ip) ?? 0,
          log: node[i].logConnections,
        },
      ]),
    ),
  };
}

console.log(`check benchmark: ${lab.nodes.length}-node lab, probes on, ${R} runs (medians); ${new Date().toISOString()}`);
console.log(`machine: ${machineLine()}`);
await once(null); // warm-up, not counted

const cliRuns = [];
for (let i = 0; i < R; i++) cliRuns.push(await cli());
const cliWall = median(cliRuns.map((r) => r.wall));
const s = cliRuns[0].summary;
console.log(`\nthe command (docker-netdoctor check --format json), end to end: ${fmt(cliWall)}   (target < 5 s)`);
console.log(`  exit ${cliRuns[0].code}; findings: ${s.pass} pass, ${s.warn} warn, ${s.fail} fail, ${s.skip} skip, ${s.error} error`);

const all = [];
for (let i = 0; i < R; i++) all.push(await once(null));
const m = (k) => median(all.map((r) => r[k]));
console.log(`\nin process, by stage:`);
console.log(`  total    ${fmt(m('total'))}`);
for (const k of ['discover', 'collect', 'probe', 'analyse']) console.log(`  ${k.padEnd(8)} ${fmt(m(k))}`);
console.log(`  findings ${all[0].findings} (${all[0].failed} failed)`);
const counted = await once(null, { watch: true });
console.log('  per node: node CPU for the whole check (collect + probes; sshd session tree + dockerd), TCP connections ss (ours) / sshd log (all)');
for (const name of Object.keys(counted.perNode)) {
  const c = counted.perNode[name];
  console.log(`    ${name.padEnd(5)} ${fmt(median(all.map((r) => r.perNode[name].cpu)))}   ${c.ss} / ${c.log}`);
}

console.log('\nprobe time against ordered node pairs (medians):');
const names = lab.nodes.map((n) => n.name);
const rows = [];
for (let k = 2; k <= names.length; k++) {
  const r = [];
  for (let i = 0; i < R; i++) r.push(await once(names.slice(0, k)));
  rows.push({ nodes: k, pairs: r[0].pairs, probe: median(r.map((x) => x.probe)) });
}
for (const r of rows) console.log(`  ${r.nodes} nodes, ${r.pairs} pairs: ${fmt(r.probe)}  (${(r.probe / r.pairs).toFixed(0)} ms per pair)`);
const growth = rows.length > 1 ? rows.at(-1).probe / rows[0].probe : NaN;
const pairRatio = rows.length > 1 ? rows.at(-1).pairs / rows[0].pairs : NaN;
if (rows.length > 1) console.log(`  growth: pairs ×${pairRatio.toFixed(1)}, probe time ×${growth.toFixed(2)} (linear or better when ≤ pairs ratio)`);

const mark = (ok) => (ok ? 'met ' : 'MISSED');
const ss = Object.values(counted.perNode).map((c) => c.ss);
console.log('\ntargets:');
console.log(
  `  ${mark(cliWall < 5000)}  full check < 5 s on the ${lab.nodes.length}-node lab: ${fmt(cliWall)} (command), ${fmt(m('total'))} (in process)`,
);
if (rows.length > 1)
  console.log(
    `  ${mark(growth <= pairRatio)}  probe time no worse than linear in node pairs: ×${growth.toFixed(2)} for ×${pairRatio.toFixed(1)} pairs`,
  );
else console.log('  n/a   probe growth: needs a lab of 3+ nodes');
console.log(`  ${mark(ss.every((x) => x === 1))}  one TCP connection per node for collect + probes: ${ss.join(', ')}`);
console.log(`\nmachine at the end: ${machineLine()}`);
process.exit(0);
