#!/usr/bin/env node
// Record what the probe programs print on the lab (test/lab), for the unit
// tests of src/probe/verdict.ts: collects the swarm nodes over SSH, runs the
// probes exactly as `check` does (src/probe/run.ts observeProbes), and writes
// each sender's plan and output and each receiver's capture output as JSON.
//
//   npm run build && node scripts/record-probes.mjs test/fixtures/lab/probes/healthy.json
// (root, lab up; inject a fault first to record a faulty run)
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { observeProbes } from '../dist/probe/run.js';
import { probeResults } from '../dist/probe/verdict.js';
import { collectLab, labState } from '../bench/lib.mjs';

const out = process.argv[2];
if (!out) {
  console.error('usage: node scripts/record-probes.mjs OUT.json');
  process.exit(2);
}
const { snapshot, sessions } = await collectLab(labState());
let obs;
try {
  obs = await observeProbes(snapshot, sessions, { timeoutSec: 2 });
} finally {
  for (const s of sessions.values()) s.close();
}
const r = probeResults(snapshot, obs);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify({ recordedAt: new Date().toISOString(), ...obs, captures: Object.fromEntries(obs.captures) }, null, 2)}\n`);
const bad = [...r.ports, ...r.mtu, ...r.dataPath].filter((p) => p.state !== 'ok');
console.log(
  `${out}: probes ${obs.durationMs} ms; ${r.ports.length} port, ${r.mtu.length} mtu, ${r.dataPath.length} data-path; not ok: ${bad.map((p) => `${p.from}->${p.to} ${p.port ?? p.network ?? (p.proto === 'esp' ? 'esp' : 'mtu')} ${p.state}`).join(', ') || 'none'}`,
);
process.exit(0);
