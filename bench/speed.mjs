#!/usr/bin/env node
// Speed of the whole command (issue 11), whole processes side by side in one
// run, BENCH_RUNS rounds (default 7), each round running every command once
// in turn (so load drifts hit all of them alike); medians.
//   startup   node -e 0 (the floor), docker-netdoctor docker-cli-plugin-metadata,
//             --version, --help, checks
//   collect   `docker-netdoctor collect -o FILE` against bench/raw-floor.sh
//             (curl + one OpenSSH `ssh` per node running a plain loop), 3-node lab
//   check     `docker-netdoctor check --format json`, probes on: healthy lab, and
//             with udp/4789 dropped by nd3's INPUT chain (as test/e2e/check.test.ts)
//   probes    the probe stage in process over SSH-only lab nodes (no dockerd):
//             3, 10, 30, 60 nodes as available, --probe-pairs auto and all;
//             wall, client CPU per node, node CPU per node (the probes alone, over the open
//             sessions, and the whole session with its collection), results not ok, captures
//             stopped before their count was in or behind, the kernel's input backlog drops
//             (BENCH_PROBE_SIZES=3,30 for some sizes, BENCH_PROBE_MODES=auto to skip `all` at 30;
//             BASELINE runs that build's probe code on the same nodes in every run, right after)
// BASELINE=DIR adds the same commands from another build of netdoctor (a
// checkout with its dist/ built, e.g. the commit before a change) to every
// round of startup, collect and check: both measured under the same load.
// Usage (root, after npm run build):
//   node bench/speed.mjs startup                  (no lab needed)
//   node bench/speed.mjs collect check            (lab up: npm run lab -- up)
//   node bench/speed.mjs probes                   (npm run lab -- ssh-nodes up 60)
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { fmt, labState, machineLine, median, nodeMeter, openSessionMeter } from './lib.mjs';

const R = Number(process.env.BENCH_RUNS ?? 7);
if (!Number.isInteger(R) || R < 1) {
  console.error(`BENCH_RUNS must be a positive integer (got '${process.env.BENCH_RUNS}')`);
  process.exit(2);
}
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin/docker-netdoctor');
const BASE_BIN = process.env.BASELINE ? join(process.env.BASELINE, 'bin/docker-netdoctor') : null;
/** The entry, and its baseline twin when BASELINE is set. */
const withBase = (name, bin, run) => [{ name, run: () => run(BIN) }, ...(BASE_BIN ? [{ name: `${name} [baseline]`, run: () => run(BASE_BIN) }] : [])];
const LAB_SH = join(ROOT, 'test/lab/lab.sh');
const sections = process.argv.slice(2).length ? process.argv.slice(2) : ['startup'];
const env = { ...process.env, DOCKER_HOST: '', DOCKER_CONTEXT: '', SSH_AUTH_SOCK: '', NO_COLOR: '1' };

/** Packets the kernel dropped from its per-CPU input backlog (all namespaces): /proc/net/softnet_stat, column 2. */
const softnetDrops = () =>
  readFileSync('/proc/net/softnet_stat', 'utf8')
    .trim()
    .split('\n')
    .reduce((sum, l) => sum + parseInt(l.trim().split(/\s+/)[1] ?? '0', 16), 0);

/** Times the kernel's neighbour (ARP) table was full (all namespaces share it): /proc/net/stat/arp_cache, table_fulls. */
const arpTableFulls = () =>
  readFileSync('/proc/net/stat/arp_cache', 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .reduce((sum, l) => sum + parseInt(l.trim().split(/\s+/)[12] ?? '0', 16), 0);

const TIME_OUT = join(mkdtempSync(join(tmpdir(), 'nd-bench-time-')), 'rusage');

/**
 * One whole process: wall ms (and its CPU, user + system, from GNU time:
 * less sensitive than wall time to other load on the machine); exit codes
 * other than `ok` throw.
 */
function timed(cmd, args, ok = [0]) {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    execFile(
      '/usr/bin/time',
      ['-f', '%U %S', '-o', TIME_OUT, cmd, ...args],
      { env, maxBuffer: 64 << 20, timeout: 120_000 },
      (err, _stdout, stderr) => {
        const wall = performance.now() - t;
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        if (!ok.includes(code)) return reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${stderr.slice(0, 300)}`));
        const [u, sys] = readFileSync(TIME_OUT, 'utf8').trim().split('\n').at(-1).split(' ').map(Number);
        resolve({ wall, cpu: (u + sys) * 1000 });
      },
    );
  });
}

/** Run every entry once per round, R rounds after one warm-up round; medians per entry. */
async function sideBySide(entries) {
  for (const e of entries) await e.run();
  const runs = new Map(entries.map((e) => [e.name, []]));
  for (let i = 0; i < R; i++) for (const e of entries) runs.get(e.name).push(await e.run());
  return new Map(
    [...runs].map(([k, v]) => {
      const walls = v.map((x) => x.wall);
      return [k, { median: median(walls), min: Math.min(...walls), max: Math.max(...walls), cpu: median(v.map((x) => x.cpu)) }];
    }),
  );
}

const row = (name, m, extra = '') =>
  console.log(`  ${name.padEnd(58)} ${fmt(m.median)}  (min ${fmt(m.min)}, max ${fmt(m.max)}; CPU ${fmt(m.cpu)})${extra}`);
const mark = (ok) => (ok ? 'met   ' : 'MISSED');

console.log(`speed benchmark (${sections.join(', ')}): ${R} rounds, medians; ${new Date().toISOString()}`);
console.log(`machine: ${machineLine()}`);

if (sections.includes('startup')) {
  const entries = [
    { name: 'node -e 0', run: () => timed(process.execPath, ['-e', '0']) },
    ...withBase('docker-netdoctor docker-cli-plugin-metadata', BIN, (b) => timed(process.execPath, [b, 'docker-cli-plugin-metadata'])),
    ...withBase('docker-netdoctor --version', BIN, (b) => timed(process.execPath, [b, '--version'])),
    ...withBase('docker-netdoctor --help', BIN, (b) => timed(process.execPath, [b, '--help'])),
    ...withBase('docker-netdoctor checks', BIN, (b) => timed(process.execPath, [b, 'checks'])),
  ];
  const m = await sideBySide(entries);
  console.log('\nstartup (whole processes):');
  const floor = m.get('node -e 0');
  for (const e of entries)
    row(
      e.name,
      m.get(e.name),
      e.name === 'node -e 0' ? '' : `  = node + ${fmt(m.get(e.name).median - floor.median)} wall, + ${fmt(m.get(e.name).cpu - floor.cpu)} CPU`,
    );
  console.log(`  ${mark(m.get('docker-netdoctor --version').median < 150)} --version < 0.15 s`);
  console.log(`  ${mark(m.get('docker-netdoctor checks').median < 150)} checks < 0.15 s`);
}

const lab = sections.some((s) => s !== 'startup') ? labState() : null;
const manager = lab?.nodes.find((n) => n.role === 'manager');
const sshFlags = lab ? ['--identity', lab.sshKey, '--known-hosts', lab.knownHosts, '--ssh-config', 'none', '--ssh-user', 'root'] : [];

if (sections.includes('collect')) {
  const dir = mkdtempSync(join(tmpdir(), 'nd-bench-'));
  try {
    const entries = [
      {
        name: 'raw floor: sh bench/raw-floor.sh (curl + ssh per node)',
        run: () => timed('sh', [join(ROOT, 'bench/raw-floor.sh'), manager.dockerSocket, lab.sshKey, lab.knownHosts, ...lab.nodes.map((n) => n.ip)]),
      },
      ...withBase('docker-netdoctor collect -o FILE', BIN, (b) =>
        timed(process.execPath, [b, '-H', `unix://${manager.dockerSocket}`, 'collect', '-o', join(dir, 's.json'), ...sshFlags]),
      ),
    ];
    const m = await sideBySide(entries);
    console.log(`\ncollect, ${lab.nodes.length}-node lab (whole processes):`);
    for (const e of entries) row(e.name, m.get(e.name));
    const ratio = m.get(entries[1].name).median / m.get(entries[0].name).median;
    if (BASE_BIN) console.log(`  baseline: ${(m.get(entries[2].name).median / m.get(entries[0].name).median).toFixed(2)}× the raw floor`);
    console.log(`  ${mark(ratio <= 1.5)} collect ≤ 1.5× the raw floor: ${ratio.toFixed(2)}×`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (sections.includes('check')) {
  const check = ['-H', `unix://${manager.dockerSocket}`, 'check', '--format', 'json', ...sshFlags];
  const entries = () => withBase('check', BIN, (b) => timed(process.execPath, [b, ...check], [0, 1]));
  const healthy = await sideBySide(entries());
  const rule = ['INPUT', '-p', 'udp', '--dport', String(4789), '-j', 'DROP'];
  execFileSync('bash', [LAB_SH, 'exec', 'nd3', '--', 'iptables', '-I', ...rule], { stdio: 'ignore' });
  let blocked;
  try {
    blocked = await sideBySide(entries());
  } finally {
    execFileSync('bash', [LAB_SH, 'exec', 'nd3', '--', 'iptables', '-D', ...rule], { stdio: 'ignore' });
  }
  console.log(`\ncheck with probes, ${lab.nodes.length}-node lab (whole process, probe timeout 2 s):`);
  for (const [k, v] of healthy) row(`healthy: ${k}`, v);
  for (const [k, v] of blocked) row(`udp/4789 dropped on nd3 (INPUT): ${k}`, v);
  console.log(`  ${mark(healthy.get('check').median < 2000)} healthy < 2 s`);
  console.log(`  ${mark(blocked.get('check').median < 3000)} one node's 4789 blocked < probe timeout + 1 s (3 s)`);
}

if (sections.includes('probes')) {
  const Dockerode = (await import('dockerode')).default;
  const { collectClusterFacts, collectNode } = await import('../dist/collect/collect.js');
  // With BASELINE, every run also runs the baseline's probe code on the same sessions' nodes, right after.
  const impls = [{ name: 'this', dir: '../dist' }, ...(process.env.BASELINE ? [{ name: 'baseline', dir: join(process.env.BASELINE, 'dist') }] : [])];
  for (const im of impls) {
    const url = (f) => (im.name === 'this' ? `${im.dir}/${f}` : pathToFileURL(join(im.dir, f)).href);
    im.observeProbes = (await import(url('probe/run.js'))).observeProbes;
    im.probeResults = (await import(url('probe/verdict.js'))).probeResults;
    im.parseProbeLines = (await import(url('probe/script.js'))).parseProbeLines;
  }
  const { resolveTargets } = await import('../dist/ssh/config.js');
  const { buildNodeSnapshot } = await import('../dist/snapshot/node.js');
  if (lab.sshNodes.length < 3) {
    console.error('probes: needs SSH-only lab nodes (npm run lab -- ssh-nodes up 60)');
    process.exit(2);
  }
  const facts = { ...(await collectClusterFacts(new Dockerode({ socketPath: manager.dockerSocket }))), networks: [] };
  const ssh = { identity: lab.sshKey, knownHostsFile: lab.knownHosts, sshConfigFile: 'none', user: 'root' };
  const opts = { ssh, concurrency: 64, connectTimeoutMs: 10_000, nodeTimeoutMs: 60_000 };
  // BENCH_PROBE_SIZES=3,30 to measure only some sizes.
  const sizes = (process.env.BENCH_PROBE_SIZES ? process.env.BENCH_PROBE_SIZES.split(',').map(Number) : [3, 10, 30, 60]).filter(
    (n) => n <= lab.sshNodes.length,
  );
  console.log(`\nprobe stage over SSH-only lab nodes (in process; sessions opened and collected first, not timed; ${R} runs each):`);
  console.log(
    '  nodes  pairs   mode      code      probe wall   client CPU/node   node CPU/node: probes (session incl. collection)   not ok (UDP, MTU, errors); capture state; kernel backlog drops; neighbour table full',
  );
  const rows = [];
  for (const n of sizes) {
    const nodes = lab.sshNodes.slice(0, n);
    const cluster = {
      ...facts,
      nodes: nodes.map((x) => ({
        id: x.name,
        name: x.name,
        role: 'worker',
        advertiseAddress: x.ip,
        sshAddress: x.ip,
        state: 'ready',
        availability: 'active',
        engineVersion: null,
        labels: {},
      })),
    };
    const targets = await resolveTargets(cluster.nodes, ssh);
    // 'all' above 30 nodes would take minutes of the lab's shared CPUs; its cost per pair is measured at 30.
    const modes = (process.env.BENCH_PROBE_MODES ?? 'auto,all').split(',');
    for (const pairs of n > 20 && n <= 30 ? modes : ['auto']) {
      const acc = new Map(
        impls.map((im) => [
          im.name,
          {
            walls: [],
            clientPerNode: [],
            nodePerNode: [],
            probePerNode: [],
            notOk: 0,
            notOkBy: {},
            softnet: 0,
            arpFull: 0,
            behind: 0,
            incomplete: 0,
          },
        ]),
      );
      for (let i = 0; i <= R; i++) {
        for (const im of impls) {
          const a = acc.get(im.name);
          const sessions = new Map();
          const results = await Promise.all(targets.map((t) => collectNode(t, null, cluster, opts, (s) => sessions.set(t.node, s))));
          const snapshot = { cluster, nodes: results.map((r) => buildNodeSnapshot(r, [])) };
          const meters = nodes.map((x) => nodeMeter(lab, x));
          for (const m of meters) m.start();
          const probeMeters = nodes.map((x) => openSessionMeter(x));
          for (const m of probeMeters) m.start();
          const net0 = softnetDrops();
          const arp0 = arpTableFulls();
          const cpu0 = process.cpuUsage();
          const t = performance.now();
          let obs;
          let wall, cpu, probeCpu;
          try {
            obs = await im.observeProbes(snapshot, sessions, { timeoutSec: 2, pairs });
            wall = performance.now() - t;
            cpu = process.cpuUsage(cpu0);
            // Sessions still open: their probe channels have ended and been reaped by sshd.
            probeCpu = probeMeters.map((m) => m.stop());
          } finally {
            for (const s of sessions.values()) s.close();
          }
          const net = softnetDrops() - net0;
          const arp = arpTableFulls() - arp0;
          const node = await Promise.all(meters.map((m) => m.stop()));
          if (i === 0) continue; // warm-up
          a.walls.push(wall);
          a.clientPerNode.push((cpu.user + cpu.system) / 1000 / n);
          a.nodePerNode.push(median(node.map((x) => x.sessionCpuMs)));
          a.probePerNode.push(median(probeCpu));
          a.softnet += net;
          a.arpFull += arp;
          for (const c of obs.captures.values()) {
            if (!c.ok || !im.parseProbeLines(c.text).complete) a.incomplete++;
            if (c.ok && /^STAT received (\d+)$/m.test(c.text)) {
              const num = (k) => Number(new RegExp(`^STAT ${k} (\\d+)$`, 'm').exec(c.text)?.[1] ?? 0);
              if (num('received') > num('captured') || num('dropped') > 0) a.behind++;
            }
          }
          const r = im.probeResults(snapshot, obs);
          // Nothing listens on 7946 on SSH-only nodes: TCP 7946 is refused there. Count the rest.
          const bad = [...r.ports.filter((x) => x.proto === 'udp'), ...r.mtu].filter((p) => p.state !== 'ok');
          for (const p of bad) a.notOkBy[`${p.proto ?? 'mtu'} ${p.state}`] = (a.notOkBy[`${p.proto ?? 'mtu'} ${p.state}`] ?? 0) + 1;
          if (r.errors.length) a.notOkBy.errors = (a.notOkBy.errors ?? 0) + r.errors.length;
          a.notOk += bad.length + r.errors.length;
        }
      }
      for (const im of impls) {
        const a = acc.get(im.name);
        const w = median(a.walls);
        if (im.name === 'this') rows.push({ n, pairs, wall: w });
        const detail = Object.entries(a.notOkBy)
          .map(([k, v]) => `${k}: ${v}`)
          .join(', ');
        console.log(
          `  ${String(n).padStart(5)}  ${String(n * (n - 1)).padStart(5)}   ${pairs.padEnd(8)}  ${im.name.padEnd(8)}  ${fmt(w).padEnd(11)}  ${fmt(median(a.clientPerNode)).padEnd(16)}  ${`${fmt(median(a.probePerNode))} (${fmt(median(a.nodePerNode))})`.padEnd(23)}  ${a.notOk}${detail ? ` (${detail})` : ''}; captures stopped early ${a.incomplete}, behind ${a.behind}; softnet drops ${a.softnet}; ARP table full ${a.arpFull}`,
        );
      }
    }
  }
  const base = rows.find((r) => r.n === 3)?.wall;
  const at30 = rows.find((r) => r.n === 30 && r.pairs === 'auto')?.wall;
  if (base && at30) console.log(`  ${mark(at30 <= 2 * base)} probe stage at 30 nodes ≤ 2× at 3 nodes: ${(at30 / base).toFixed(2)}×`);
}
if (sections.includes('verdicts')) {
  // The client's share at scale, in process: verdicts for N nodes from
  // probe output of the exact form the programs print (healthy: every
  // datagram seen), the covering plan above 20 nodes.
  const { probeResults } = await import('../dist/probe/verdict.js');
  const { planNode, planPairs } = await import('../dist/probe/plan.js');
  console.log('\nverdicts in process (synthetic healthy output of the recorded form, covering plan):');
  for (const n of [30, 60, 300]) {
    const names = Array.from({ length: n }, (_, i) => `n${String(i).padStart(3, '0')}`);
    const ip = (i) => `10.${Math.floor(i / 250)}.${i % 250}.${10 + (i % 7)}`;
    const iface = (i) => [{ name: 'eth0', addresses: [{ address: ip(i), prefixLen: 24 }] }];
    const snapshot = {
      cluster: {
        dataPathPort: 4789,
        networks: [],
        nodes: names.map((name, i) => ({ name, role: i < 3 ? 'manager' : 'worker', advertiseAddress: ip(i) })),
      },
      nodes: names.map((name, i) => ({
        name,
        host: { interfaces: iface(i), dockerd: { execRoot: '/var/run/docker' } },
        sandboxes: [],
        sandboxAccess: 'direct',
        errors: [],
      })),
    };
    const pairs = planPairs(names, 'auto');
    const peersOf = (i) => names.map((name, j) => ({ name, ip: ip(j), manager: j < 3 })).filter((_, j) => j !== i);
    const senders = names.map((name, i) => {
      const plan = planNode(snapshot, snapshot.nodes[i], peersOf(i), { timeoutSec: 2 }, new Set(pairs.full.get(name)));
      const text = [
        ...plan.udp.map((u) => `U ${u.ip} ${u.port} 0`),
        ...plan.tcp.map((c) => `T ${c.ip} ${c.port} 0`),
        ...plan.mtu.flatMap((m) => [`P ${m.ip} ${m.payload} 0 `, `B ${m.ip} 0`]),
        'DONE',
      ].join('\n');
      return { node: name, peers: peersOf(i), plan, output: { ok: true, text } };
    });
    const captures = new Map(
      names.map((name, i) => [
        name,
        {
          ok: true,
          text: ['READY', ...names.flatMap((_, j) => (j === i ? [] : [7946, 4789].map((p) => `C ${ip(j)} ${ip(i)} ${p}`))), 'COMPLETE', 'DONE'].join(
            '\n',
          ),
        },
      ]),
    );
    const obs = { startedAt: '', durationMs: 0, timeoutSec: 2, captureSec: 2, senders, captures, errors: [] };
    const ms = [];
    let r;
    for (let k = 0; k < 3; k++) {
      const t = performance.now();
      r = probeResults(snapshot, obs);
      ms.push(performance.now() - t);
    }
    const bad = [...r.ports, ...r.mtu].filter((p) => p.state !== 'ok').length;
    console.log(
      `  ${String(n).padStart(4)} nodes: ${fmt(median(ms))} for ${r.ports.length + r.mtu.length} results (${bad} not ok), ${(median(ms) / n).toFixed(2)} ms per node`,
    );
  }
}

console.log(`\nmachine at the end: ${machineLine()}`);
process.exit(0);
