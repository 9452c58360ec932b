#!/usr/bin/env node
// Re-record the lab fixtures (test/fixtures/lab/<scenario>/) from a live lab:
// the manager's Engine API answers as collection stores them (cluster.json,
// secrets already dropped) and, per node, the collection script's framed
// stdout (<node>.txt) with its marker (<node>.marker), exactly what
// collection reads over SSH. Add a section to src/collect/script.ts, run this,
// and test/support/lab-fixtures.ts serves it to the unit tests.
//
//   npm run build && bash test/lab/lab.sh up && node scripts/record-lab-fixtures.mjs [scenario]
//
// The default scenario is "recorded" (a new folder), so the pinned "healthy"
// recording the unit tests name sandboxes of is only replaced on purpose
// (`node scripts/record-lab-fixtures.mjs healthy`, then update the tests' ids).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import Dockerode from 'dockerode';
import { fetchClusterRaw } from '../dist/collect/cluster.js';
import { buildCollectScript, dnsPlan, LOG_DEFAULTS, underlayPeers } from '../dist/collect/script.js';
import { buildClusterFacts } from '../dist/collect/cluster.js';
import { resolveTargets } from '../dist/ssh/config.js';
import { connect } from '../dist/ssh/session.js';

const scenario = process.argv[2] ?? 'recorded';
if (!/^[a-z0-9-]+$/.test(scenario)) throw new Error(`scenario must be [a-z0-9-]+, got ${JSON.stringify(scenario)}`);
const labDir = process.env.ND_LAB_DIR ?? '/tmp/ndlab';
const lab = JSON.parse(readFileSync(`${labDir}/lab.json`, 'utf8'));
const out = new URL(`../test/fixtures/lab/${scenario}/`, import.meta.url);
mkdirSync(out, { recursive: true });

const manager = lab.nodes.find((n) => n.role === 'manager');
const raw = await fetchClusterRaw(new Dockerode({ socketPath: manager.dockerSocket }));
writeFileSync(new URL('cluster.json', out), `${JSON.stringify(raw, null, 2)}\n`);
const facts = buildClusterFacts(raw);

const targets = await resolveTargets(facts.nodes, {
  sshConfigFile: 'none',
  user: lab.user,
  identity: lab.sshKey,
  knownHostsFile: lab.knownHosts,
  globalKnownHostsFiles: [],
  env: {},
});
const encryptedPrefixes = facts.networks.filter((n) => n.encrypted).map((n) => n.id.slice(0, 10));
for (const t of targets) {
  const session = await connect(t, { connectTimeoutMs: 10_000, env: {}, promptPassphrase: null });
  try {
    const { script, marker } = buildCollectScript({
      dataPathPort: facts.dataPathPort,
      encryptedPrefixes,
      underlayPeers: underlayPeers(facts),
      dns: dnsPlan(facts),
      // dockerd's log as `check` reads it by default (the last hour).
      dockerLog: { lines: LOG_DEFAULTS.lines, bytes: LOG_DEFAULTS.bytes, since: Math.floor(Date.now() / 1000) - LOG_DEFAULTS.sinceSec },
    });
    const res = await session.exec('sh -s', { stdin: script, timeoutMs: 60_000 });
    if (res.code !== 0) throw new Error(`${t.node}: collection script exited ${res.code}: ${res.stderr.split('\n')[0]}`);
    writeFileSync(new URL(`${t.node}.txt`, out), res.stdout);
    writeFileSync(new URL(`${t.node}.marker`, out), `${marker}\n`);
    console.error(`${t.node}: ${res.stdout.length} bytes`);
  } finally {
    session.close();
  }
}
console.error(`recorded ${targets.length} nodes and the manager's answers in test/fixtures/lab/${scenario}/`);
