#!/usr/bin/env node
// The SSH layer alone, on one lab node: how long a connection takes, and how
// long an exec takes to its first byte of output (the collection and every
// probe script are execs on one connection per node). Against OpenSSH's own
// client over a ControlMaster connection, the floor for an exec.
//
//   node bench/ssh-exec.mjs                       (lab up: npm run lab -- up)
//   BASELINE=DIR node bench/ssh-exec.mjs          the same from another build's dist/
//
// Measured side by side in one run, BENCH_RUNS rounds (default 9), medians.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fmt, labSshOptions, labState, machineLine, median, runs } from './lib.mjs';

const lab = labState();
const node = lab.nodes.find((n) => n.role !== 'manager') ?? lab.nodes[0];
const N = runs() === 5 && !process.env.BENCH_RUNS ? 9 : runs();
const builds = [['this build', new URL('../dist/', import.meta.url).pathname]];
if (process.env.BASELINE) builds.push(['baseline', join(process.env.BASELINE, 'dist/')]);

/** connect → exec('echo hi') to its first stdout byte → close, N times, with one build's session.js. */
async function measure(dist) {
  const { connect } = await import(join(dist, 'ssh/session.js'));
  const { resolveTargets } = await import(join(dist, 'ssh/config.js'));
  const [target] = await resolveTargets([{ name: node.name, sshAddress: node.ip }], {
    sshConfigFile: 'none',
    user: 'root',
    identity: lab.sshKey,
    knownHostsFile: lab.knownHosts,
  });
  const connects = [];
  const execs = [];
  for (let i = 0; i < N + 1; i++) {
    const t0 = performance.now();
    const s = await connect(target, { connectTimeoutMs: 10_000 });
    const t1 = performance.now();
    const firsts = [];
    for (let k = 0; k < 5; k++) {
      const e0 = performance.now();
      let first = null;
      await s.exec('sh -s', { stdin: 'echo hi\n', onStdout: () => (first ??= performance.now() - e0) });
      firsts.push(first);
    }
    s.close();
    if (i === 0) continue; // warm-up
    connects.push(t1 - t0);
    execs.push(median(firsts));
  }
  return { connect: median(connects), exec: median(execs) };
}

/** OpenSSH: one master connection, then `ssh -S … host sh -s` per exec (process start included). */
function openssh() {
  const dir = mkdtempSync(join(tmpdir(), 'nd-bench-ssh-'));
  const sock = join(dir, 'cm');
  const base = [...labSshOptions(lab), '-o', 'BatchMode=yes'];
  try {
    execFileSync('ssh', [...base, '-o', 'ControlMaster=yes', '-o', `ControlPath=${sock}`, '-fN', `root@${node.ip}`]);
    const xs = [];
    for (let i = 0; i < N + 1; i++) {
      const t0 = performance.now();
      execFileSync('ssh', [...base, '-o', `ControlPath=${sock}`, `root@${node.ip}`, 'sh -s'], { input: 'echo hi\n' });
      if (i > 0) xs.push(performance.now() - t0);
    }
    execFileSync('ssh', [...base, '-o', `ControlPath=${sock}`, '-O', 'exit', `root@${node.ip}`], { stdio: 'ignore' });
    return median(xs);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log(`ssh-exec benchmark: ${node.name}, ${N} rounds (5 execs each), medians; ${new Date().toISOString()}`);
console.log(`machine: ${machineLine()}`);
const floor = openssh();
console.log(`  ${'OpenSSH client, exec over a ControlMaster (whole ssh process)'.padEnd(62)} ${fmt(floor)}`);
for (const [label, dist] of builds) {
  const r = await measure(dist);
  console.log(`  ${`${label}: connect`.padEnd(62)} ${fmt(r.connect)}`);
  console.log(`  ${`${label}: exec to its first byte of output`.padEnd(62)} ${fmt(r.exec)}`);
}
