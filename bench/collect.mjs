#!/usr/bin/env node
// Collection benchmark (issue: collect). On the lab:
//  1. each swarm node alone, then all of them together, BENCH_RUNS times
//     each: medians of wall time, and the ratio total / slowest single node
//     (target <= 1.5);
//  2. per node: connect, exec, node-side CPU (target < 0.5 s), measured from
//     the host through /proc (sshd and every process of the session, plus
//     dockerd's own CPU over the collection), and TCP connections per node
//     (target: 1), counted in a run of their own with `ss -tnp` polled on the
//     host (connections of this process to port 22) and cross-checked with
//     the connections each node's sshd logged;
//  3. fan-out over the SSH-only lab nodes (`npm run lab -- ssh-nodes up 30`),
//     when present: each alone, then 1, 10 and all of them together, with the
//     CPU the run needed on the nodes and here (the nodes are namespaces of
//     this machine and share its CPUs).
// Usage: node bench/collect.mjs      (after npm run build, as root, lab up)
import Dockerode from 'dockerode';
import { cpus } from 'node:os';
import { collectClusterFacts, collectNode } from '../dist/collect/collect.js';
import { resolveTargets } from '../dist/ssh/config.js';
import { buildNodeSnapshot } from '../dist/snapshot/node.js';
import { fmt, labState, machineLine, median, nodeMeter, runs, watchConnections } from './lib.mjs';

const lab = labState();
const R = runs();
const CORES = cpus().length;
const manager = lab.nodes.find((n) => n.role === 'manager');
const docker = new Dockerode({ socketPath: manager.dockerSocket });
const facts = await collectClusterFacts(docker);
const sshOpts = { identity: lab.sshKey, knownHostsFile: lab.knownHosts, sshConfigFile: 'none', user: 'root' };
const opts = { ssh: sshOpts, concurrency: 64, connectTimeoutMs: 10_000, nodeTimeoutMs: 60_000 };
const labNodes = new Map([...lab.nodes, ...lab.sshNodes].map((n) => [n.name, n]));

/**
 * Collect `nodes` concurrently, timing only the collection itself. Node-side
 * meters are read before the clock starts and after it stops; `watch` also
 * polls `ss` for this process's connections (not for timed runs).
 */
async function collectAll(nodes, f = facts, { watch = false } = {}) {
  const targets = await resolveTargets(nodes, sshOpts);
  const meters = nodes.map((n) => nodeMeter(lab, labNodes.get(n.name)));
  const watcher = watch ? watchConnections() : null;
  await watcher?.start();
  for (const m of meters) m.start();
  const cpu0 = process.cpuUsage();
  const t = performance.now();
  const results = await Promise.all(targets.map((tg) => collectNode(tg, null, f, opts)));
  const wall = performance.now() - t;
  const cpu = process.cpuUsage(cpu0);
  const node = await Promise.all(meters.map((m) => m.stop()));
  const conns = watcher ? (await watcher.stop()).connections : null;
  const snaps = results.map((r) => buildNodeSnapshot(r, f.networks));
  const bad = snaps.filter((s) => s.status !== 'ok' && s.status !== 'partial');
  if (bad.length) throw new Error(`${bad[0].name}: ${bad[0].errors.map((e) => e.message).join('; ')}`);
  return {
    wall,
    clientCpuMs: (cpu.user + cpu.system) / 1000,
    snaps,
    node: Object.fromEntries(nodes.map((n, i) => [n.name, { ...node[i], ss: conns?.get(labNodes.get(n.name).ip) ?? 0 }])),
  };
}

const nodeCpu = (m) => m.sessionCpuMs + (m.dockerdCpuMs ?? 0);
const sum = (xs) => xs.reduce((a, b) => a + b, 0);

console.log(`collect benchmark: ${lab.nodes.length}-node lab, ${R} runs each (medians); ${new Date().toISOString()}`);
console.log(`machine: ${machineLine()}`);
await collectAll(facts.nodes); // warm-up (JIT, first connections), not counted

// 1. Each swarm node alone.
const alone = {};
for (const n of facts.nodes) {
  const walls = [];
  for (let i = 0; i < R; i++) walls.push((await collectAll([n])).wall);
  alone[n.name] = median(walls);
}

// 2. All swarm nodes together.
const totals = [];
const clients = [];
const overheads = [];
const perNode = {};
for (let i = 0; i < R; i++) {
  const { wall, clientCpuMs, snaps, node } = await collectAll(facts.nodes);
  totals.push(wall);
  clients.push(clientCpuMs);
  overheads.push(wall / Math.max(...snaps.map((s) => s.timings.totalMs)));
  for (const s of snaps) {
    if (s.status !== 'ok') throw new Error(`${s.name}: ${s.errors.map((e) => e.message).join('; ')}`);
    (perNode[s.name] ??= []).push({ ...s.timings, ...node[s.name] });
  }
}
// 3. Connections: one more run, ss polled on the host meanwhile.
const counted = await collectAll(facts.nodes, facts, { watch: true });

console.log('\nnode   alone(wall)  connect   exec      node CPU (session + dockerd)   script `times`  TCP conns: ss (ours) / sshd log (all)');
const cpuRows = [];
for (const n of facts.nodes) {
  const t = perNode[n.name];
  const c = counted.node[n.name];
  const session = median(t.map((x) => x.sessionCpuMs));
  const dockerd = median(t.map((x) => x.dockerdCpuMs ?? NaN));
  const total = median(t.map(nodeCpu));
  cpuRows.push(total);
  console.log(
    `${n.name.padEnd(6)} ${fmt(alone[n.name]).padEnd(12)} ${fmt(median(t.map((x) => x.connectMs))).padEnd(9)} ${fmt(median(t.map((x) => x.execMs))).padEnd(9)} ` +
      `${`${fmt(total)} (${fmt(session)} + ${fmt(dockerd)})`.padEnd(30)} ${fmt(median(t.map((x) => x.nodeCpuMs ?? NaN))).padEnd(15)} ${c.ss} / ${c.logConnections}`,
  );
}
const incomplete = Object.values(perNode)
  .flat()
  .filter((x) => !x.complete).length;
if (incomplete) console.log(`  (${incomplete} node measurement(s) incomplete: a session outlived the 3 s wait or sshd restarted)`);
if (facts.nodes.every((n) => perNode[n.name].every((x) => !x.nodeCpuMs))) {
  console.log('  script `times` is what the collection script reports (NodeSnapshot.timings.nodeCpuMs): 0 here, see bench/README.md');
}
const slowest = Math.max(...Object.values(alone));
const total = median(totals);
const client = median(clients);
const demand = client + sum(cpuRows);
console.log(
  `\nall ${facts.nodes.length} nodes together: ${fmt(total)}; slowest node alone: ${fmt(slowest)}; ratio ${(total / slowest).toFixed(2)} (target <= 1.5)`,
);
console.log(`  in the same run, wall / the slowest node's own collection (its timings.totalMs): ${median(overheads).toFixed(2)}×`);
console.log(
  `CPU needed by one collection of all nodes: ${fmt(demand)} (client ${fmt(client)} + nodes ${fmt(sum(cpuRows))}); ` +
    `on ${CORES} CPUs no wall time can be below ${fmt(demand / CORES)}`,
);

// 4. Fan-out over SSH-only nodes (no dockerd): the same script, the same SSH path.
let fanout = null;
if (lab.sshNodes.length > 0) {
  const ssh = lab.sshNodes.map((n) => ({ name: n.name, sshAddress: n.ip }));
  const empty = { ...facts, networks: [] };
  console.log(`\nfan-out over ${ssh.length} SSH-only lab nodes (${R} runs, medians):`);
  const soloWalls = [];
  const soloCpu = [];
  for (const n of ssh) {
    const w = [];
    for (let i = 0; i < R; i++) {
      const r = await collectAll([n], empty);
      w.push(r.wall);
      soloCpu.push(nodeCpu(r.node[n.name]));
    }
    soloWalls.push(median(w));
  }
  const slowestSolo = Math.max(...soloWalls);
  console.log(`  each alone: median ${fmt(median(soloWalls))}, slowest ${fmt(slowestSolo)}; node CPU per collection: median ${fmt(median(soloCpu))}`);
  console.log(`  nodes  wall      ×slowest alone  ×slowest in run  node CPU (sum)  client CPU  CPU floor on ${CORES} CPUs`);
  const sizes = [1, Math.min(10, ssh.length), ssh.length].filter((v, i, a) => a.indexOf(v) === i);
  const rows = {};
  for (const k of sizes) {
    const walls = [];
    const nodeSums = [];
    const clientCpu = [];
    const own = [];
    for (let i = 0; i < R; i++) {
      const r = await collectAll(ssh.slice(0, k), empty);
      walls.push(r.wall);
      own.push(r.wall / Math.max(...r.snaps.map((s) => s.timings.totalMs)));
      nodeSums.push(sum(Object.values(r.node).map(nodeCpu)));
      clientCpu.push(r.clientCpuMs);
    }
    const row = { wall: median(walls), nodes: median(nodeSums), client: median(clientCpu), own: median(own) };
    rows[k] = row;
    console.log(
      `  ${String(k).padStart(5)}  ${fmt(row.wall).padEnd(9)} ${`${(row.wall / slowestSolo).toFixed(2)}×`.padEnd(15)} ${`${row.own.toFixed(2)}×`.padEnd(16)} ${fmt(row.nodes).padEnd(15)} ${fmt(row.client).padEnd(11)} ${fmt((row.nodes + row.client) / CORES)}`,
    );
  }
  const c = await collectAll(ssh, empty, { watch: true });
  const ssCounts = Object.values(c.node).map((x) => x.ss);
  const logCounts = Object.values(c.node).map((x) => x.logConnections);
  console.log(
    `  TCP connections per node, all ${ssh.length} at once: ss (ours) min ${Math.min(...ssCounts)} max ${Math.max(...ssCounts)}; sshd log (all) min ${Math.min(...logCounts)} max ${Math.max(...logCounts)}`,
  );
  fanout = { n: ssh.length, ratio: rows[ssh.length].wall / slowestSolo, ss: Math.max(...ssCounts), ssMin: Math.min(...ssCounts) };
}

// Against the targets.
const ssAll = facts.nodes.map((n) => counted.node[n.name].ss);
const mark = (ok) => (ok ? 'met ' : 'MISSED');
console.log('\ntargets:');
console.log(
  `  ${mark(ssAll.every((x) => x === 1) && (!fanout || (fanout.ss === 1 && fanout.ssMin === 1)))}  one TCP connection per node: swarm nodes ${ssAll.join(', ')}${fanout ? `; SSH-only nodes ${fanout.ssMin}..${fanout.ss}` : ''}`,
);
console.log(`  ${mark(Math.max(...cpuRows) < 500)}  node-side CPU per collection < 0.5 s: max ${fmt(Math.max(...cpuRows))}`);
console.log(
  `  ${mark(total / slowest <= 1.5)}  all nodes <= 1.5× slowest alone: ${(total / slowest).toFixed(2)}× (${facts.nodes.length} swarm nodes)`,
);
if (fanout) console.log(`  ${mark(fanout.ratio <= 1.5)}  same, fan-out: ${fanout.ratio.toFixed(2)}× (${fanout.n} SSH-only nodes)`);
console.log(`\nmachine at the end: ${machineLine()}`);
process.exit(0);
