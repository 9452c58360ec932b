#!/usr/bin/env node
// Does a change to the collect script keep what the parsers read? The
// collect script of this build and of BASELINE (another checkout, its dist/
// built) run on every swarm node of the lab, in the order baseline, this
// build, baseline again, with the same options (scriptOptionsFor, one `since`
// for all), through `lab.sh exec NODE -- sh -s` (read-only, as over SSH).
// Each run's output is split and built into a snapshot, a model
// (buildModel) and findings (runChecks), exactly as a real run does. A value
// of the model or a finding that differs between the baseline and this build
// but not between the two baseline runs is a change: listed, exit 1. What the
// two baseline runs already disagree on (the clock, neighbour states that
// moved) is noise and only counted. Raw sections whose text changed are
// listed too (for the record: the parsers may well read them the same).
// Usage (root, lab up): BASELINE=DIR node bench/collect-equal.mjs
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import Dockerode from 'dockerode';
import { collectClusterFacts, scriptOptionsFor } from '../dist/collect/collect.js';
import { buildCollectScript } from '../dist/collect/script.js';
import { splitSections } from '../dist/collect/sections.js';
import { SNAPSHOT_SCHEMA_VERSION } from '../dist/snapshot/types.js';
import { buildNodeSnapshot } from '../dist/snapshot/node.js';
import { buildModel } from '../dist/model/build.js';
import { runChecks } from '../dist/checks/runner.js';
import { labState, machineLine } from './lib.mjs';

if (!process.env.BASELINE) {
  console.error('BASELINE=DIR (another checkout with its dist/ built) is required');
  process.exit(2);
}
const LAB_SH = fileURLToPath(new URL('../test/lab/lab.sh', import.meta.url));
const lab = labState();
const manager = lab.nodes.find((n) => n.role === 'manager');
const cluster = await collectClusterFacts(new Dockerode({ socketPath: manager.dockerSocket }));
const options = scriptOptionsFor(cluster);
const base = await import(`${process.env.BASELINE.replace(/\/$/, '')}/dist/collect/script.js`);
const builders = { base: base.buildCollectScript, new: buildCollectScript };

/** One run of a build's script on a node: its split sections. */
function run(build, node) {
  const { script, marker } = builders[build](options);
  const r = spawnSync('bash', [LAB_SH, 'exec', node, '--', 'sh', '-s'], { input: script, encoding: 'utf8', maxBuffer: 256 << 20 });
  if (r.status !== 0) throw new Error(`${build} on ${node}: exit ${r.status}: ${r.stderr.split('\n')[0]}`);
  return splitSections(r.stdout, marker);
}

/** A snapshot of the lab from one output per node, as the pipeline assembles it. */
function snapshotOf(outputs) {
  return {
    schemaVersion: SNAPSHOT_SCHEMA_VERSION,
    tool: { name: 'docker-netdoctor', version: 'bench' },
    startedAt: new Date(0).toISOString(),
    durationMs: 0,
    endpoint: { host: 'lab', context: 'default' },
    cluster,
    nodes: [...outputs].map(([name, output]) => {
      const n = cluster.nodes.find((x) => x.name === name);
      return buildNodeSnapshot(
        {
          name,
          id: n?.id ?? null,
          target: { host: n?.sshAddress ?? name, port: 22, user: 'root', via: [] },
          output,
          errors: [],
          timings: { connectMs: 0, execMs: 0, totalMs: 0 },
          receivedAt: Number.parseFloat(output.sections['host/clock']?.stdout ?? '0'),
        },
        cluster.networks,
      );
    }),
  };
}

// The raw text and the run's own costs are not the model: left out of the comparison.
const DROP = new Set(['raw', 'snap', 'snapshot', 'timings', 'receivedAt']);
/** Path → primitive value of everything reachable (Maps and Sets included, functions and cycles not). */
function flatten(v, path = '$', out = new Map(), stack = []) {
  if (v === null || typeof v !== 'object') {
    if (typeof v !== 'function') out.set(path, v);
    return out;
  }
  if (stack.includes(v)) return out;
  stack.push(v);
  const entries = v instanceof Map ? [...v] : v instanceof Set ? [...v].map((x, i) => [i, x]) : Object.entries(v);
  for (const [k, x] of entries) if (!DROP.has(k)) flatten(x, `${path}.${String(k)}`, out, stack);
  stack.pop();
  return out;
}
const view = (outputs) => {
  const model = buildModel(snapshotOf(outputs));
  // A finding by what it is (check, status, where, message), its detail apart: a detail that holds a count
  // of log lines read differs run to run, and the two baseline runs tell which do.
  const findings = new Map();
  for (const f of runChecks(model, {})) {
    const key = [f.id, f.status, f.node ?? '', f.peer ?? '', f.network ?? '', f.messageId].join(' ');
    findings.set(key, [...(findings.get(key) ?? []), f.detail].sort().join(' | '));
  }
  return { model: flatten({ nodes: model.nodes, overlay: model.overlay, controlPlane: model.controlPlane, topology: model.topology }), findings };
};
const differ = (a, b) => new Set([...new Set([...a.keys(), ...b.keys()])].filter((k) => a.get(k) !== b.get(k)));

console.log(`collect script, this build against ${process.env.BASELINE}, same lab; ${new Date().toISOString()}`);
console.log(`machine: ${machineLine()}`);
const outs = { base1: new Map(), new: new Map(), base2: new Map() };
for (const n of lab.nodes) {
  outs.base1.set(n.name, run('base', n.name));
  outs.new.set(n.name, run('new', n.name));
  outs.base2.set(n.name, run('base', n.name));
}
let changed = 0;
// Raw sections: which changed their text (stdout, stderr or rc) beyond the baseline's own run-to-run noise.
const rawKey = (s) => (s ? JSON.stringify([s.stdout, s.stderr, s.rc]) : 'absent');
for (const n of lab.nodes) {
  const [a, b, c] = [outs.base1.get(n.name), outs.new.get(n.name), outs.base2.get(n.name)];
  const names = [...new Set([...Object.keys(a.sections), ...Object.keys(b.sections)])].sort();
  const moved = names.filter((k) => rawKey(a.sections[k]) !== rawKey(b.sections[k]) && rawKey(c.sections[k]) !== rawKey(b.sections[k]));
  const noisy = names.filter((k) => rawKey(a.sections[k]) !== rawKey(c.sections[k]));
  console.log(
    `${n.name}: ${names.length} sections; raw text changed: ${moved.length ? moved.join(', ') : 'none'}; baseline's own noise: ${noisy.join(', ') || 'none'}`,
  );
  if (!b.complete) {
    console.log(`  ${n.name}: this build's output is INCOMPLETE`);
    changed++;
  }
}
const [va, vb, vc] = [view(outs.base1), view(outs.new), view(outs.base2)];
const noise = differ(va.model, vc.model);
const real = [...differ(va.model, vb.model)].filter((k) => !noise.has(k) && vb.model.get(k) !== vc.model.get(k));
console.log(`model: ${va.model.size} values; ${real.length} changed by this build; ${noise.size} differ between the two baseline runs (noise)`);
for (const k of real.slice(0, 50)) console.log(`  ${k}: baseline ${JSON.stringify(va.model.get(k))} / this build ${JSON.stringify(vb.model.get(k))}`);
const fnoise = differ(va.findings, vc.findings);
const freal = [...differ(va.findings, vb.findings)].filter((k) => !fnoise.has(k) && vb.findings.get(k) !== vc.findings.get(k));
console.log(
  `findings: ${va.findings.size} (baseline) / ${vb.findings.size} (this build); ${freal.length} changed by this build; ${fnoise.size} differ between the two baseline runs (noise)`,
);
for (const k of freal.slice(0, 40)) console.log(`  ${k}: baseline ${va.findings.get(k) ?? '(none)'} / this build ${vb.findings.get(k) ?? '(none)'}`);
changed += real.length + freal.length;
console.log(changed === 0 ? 'SAME: the model and the findings are those of the baseline' : `CHANGED: ${changed} difference(s)`);
process.exit(changed === 0 ? 0 : 1);
