#!/usr/bin/env node
// `gate` benchmark (issue 10) on the lab, whole processes side by side, as a
// CI pipeline runs them (`bin/docker-netdoctor … --format json`):
//  - gate --no-live (docker stack config + the manager API only; target < 1 s wall),
//  - gate (live: SSH collection of the candidate nodes and probes between them),
//  - check (the full check, probes on),
// each BENCH_RUNS times, interleaved, medians reported. The stack is
// test/fixtures/stack/go.yml (dnsrr, a fresh overlay, two replicas), which
// gates 0 on the lab.
// BENCH_BASE=<another checkout> runs that checkout's built CLI's gate and
// check in the same rounds (side by side, e.g. the branch base built in a copy).
// BENCH_NETWORKS=N first adds N overlays to the lab, each with a service of
// one task per node (what the gate of go.yml does not join, but check probes),
// waits until they run, and removes them at the end.
// Usage: node bench/gate.mjs      (after npm run build, as root, lab up)
import { execFile, execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmt, labState, machineLine, median, runs, sleep } from './lib.mjs';

const lab = labState();
const R = runs();
const manager = lab.nodes.find((n) => n.role === 'manager');
const BIN = fileURLToPath(new URL('../bin/docker-netdoctor', import.meta.url));
const BASE = process.env.BENCH_BASE ? join(process.env.BENCH_BASE, 'bin/docker-netdoctor') : null;
const STACK = fileURLToPath(new URL('../test/fixtures/stack/go.yml', import.meta.url));
const ssh = ['--identity', lab.sshKey, '--known-hosts', lab.knownHosts, '--ssh-config', 'none'];

// Floors, for reading the figures on a loaded machine: a bare node process,
// a process of ours that does nothing (node start + oclif load), and
// `docker stack config` alone. They run in the same rounds as the commands.
const FLOORS = {
  'node -e 0': [process.execPath, ['-e', '0']],
  'docker-netdoctor --version': [process.execPath, [BIN, '--version']],
  'docker stack config': ['docker', ['stack', 'config', '-c', STACK]],
};

const COMMANDS = {
  'gate --no-live': [BIN, ['gate', '-c', STACK, '--stack', 'bench', '--no-live']],
  gate: [BIN, ['gate', '-c', STACK, '--stack', 'bench']],
  check: [BIN, ['check']],
  ...(BASE ? { 'base: gate': [BASE, ['gate', '-c', STACK, '--stack', 'bench']], 'base: check': [BASE, ['check']] } : {}),
};

function once(bin, args) {
  const env = { ...process.env, DOCKER_HOST: '', DOCKER_CONTEXT: '', SSH_AUTH_SOCK: '', NO_COLOR: '1', GITHUB_ACTIONS: '' };
  return new Promise((resolve, reject) => {
    const t = performance.now();
    execFile(
      process.execPath,
      [bin, '-H', `unix://${manager.dockerSocket}`, ...args, '--format', 'json', ...ssh],
      { env, maxBuffer: 64 << 20, timeout: 120_000 },
      (err, stdout, stderr) => {
        const wall = performance.now() - t;
        const code = err ? err.code : 0;
        if (code !== 0 && code !== 1) return reject(new Error(`${args[0]} exited ${code}: ${stderr}`));
        const s = JSON.parse(stdout).summary;
        resolve({ wall, code, results: s.pass + s.warn + s.fail + s.skip + s.error });
      },
    );
  });
}

const EXTRA = Number(process.env.BENCH_NETWORKS ?? 0);
const dk = (...args) =>
  execFileSync('docker', ['-H', `unix://${manager.dockerSocket}`, ...args], {
    encoding: 'utf8',
    env: { ...process.env, DOCKER_HOST: '', DOCKER_CONTEXT: '' },
  });
const extra = Array.from({ length: EXTRA }, (_, i) => `ndbench${i + 1}`);
for (const name of extra) {
  dk('network', 'create', '-d', 'overlay', '--attachable', name);
  const per = ['--replicas', String(lab.nodes.length), '--replicas-max-per-node', '1', '--network', name];
  dk('service', 'create', '--detach', '--quiet', '--name', name, ...per, '--no-resolve-image', 'ndlab/busybox:latest', 'httpd', '-f', '-p', '80');
}
// Every extra service's tasks running, then a few seconds for the overlays' gossip to settle.
for (let t = 0; extra.length > 0 && t < 120; t++) {
  const ls = dk('service', 'ls', '--format', '{{.Name}} {{.Replicas}}');
  const running = new Set(
    ls.split('\n').flatMap((l) => {
      const [name, replicas = ''] = l.split(' ');
      const [have, want] = replicas.split('/');
      return have !== undefined && have === want ? [name] : [];
    }),
  );
  if (extra.every((n) => running.has(n))) break;
  await sleep(1000);
}
if (extra.length > 0) await sleep(5000);
console.log(
  `gate benchmark: ${lab.nodes.length} nodes, ${EXTRA} extra overlay(s) with a service each, ${R} runs each, interleaved with the floors; ${new Date().toISOString()}; ${machineLine()}`,
);
const walls = Object.fromEntries(Object.keys(COMMANDS).map((k) => [k, []]));
const floors = Object.fromEntries(Object.keys(FLOORS).map((k) => [k, []]));
const last = {};
const loads = [];
for (let i = 0; i < R; i++) {
  loads.push(loadavg()[0]);
  for (const [name, [cmd, args]] of Object.entries(FLOORS)) {
    const t = performance.now();
    await new Promise((resolve, reject) => execFile(cmd, args, (err) => (err ? reject(err) : resolve())));
    floors[name].push(performance.now() - t);
  }
  // Each round starts one command further on, so that none always runs first (or right after another).
  const all = Object.entries(COMMANDS);
  for (const [name, [bin, args]] of [...all.slice(i % all.length), ...all.slice(0, i % all.length)]) {
    const r = await once(bin, args);
    walls[name].push(r.wall);
    last[name] = r;
  }
}
for (const [name, ws] of Object.entries(floors))
  console.log(`floor: ${name}: median ${fmt(median(ws))} (${fmt(Math.min(...ws))}–${fmt(Math.max(...ws))})`);
console.log(`1-minute load average at the start of each round: ${loads.map((l) => l.toFixed(1)).join(', ')}; at the end: ${machineLine()}`);
console.log('| command | median wall | min–max | exit | results |');
console.log('|---|---|---|---|---|');
for (const [name, ws] of Object.entries(walls)) {
  console.log(`| \`${name}\` | ${fmt(median(ws))} | ${fmt(Math.min(...ws))}–${fmt(Math.max(...ws))} | ${last[name].code} | ${last[name].results} |`);
}
const nl = median(walls['gate --no-live']);
const bare = median(floors['node -e 0']);
console.log(`gate --no-live target < 1 s: ${nl < 1000 ? 'met' : 'NOT met'} (${fmt(nl)}; node -e 0 ${fmt(bare)}, ${fmt(nl - bare)} above it)`);
const g = median(walls.gate);
const c = median(walls.check);
console.log(`full gate < check: ${g < c ? 'met' : 'NOT met'} (gate ${fmt(g)}, check ${fmt(c)})`);
if (BASE) {
  const bg = median(walls['base: gate']);
  const bc = median(walls['base: check']);
  console.log(`base (${process.env.BENCH_BASE}): gate ${fmt(bg)}, check ${fmt(bc)}; gate < check: ${bg < bc ? 'met' : 'NOT met'}`);
}
for (const name of extra) dk('service', 'rm', name);
for (const name of extra) {
  // The network is free once its service's tasks are gone.
  for (let t = 0; t < 60; t++) {
    try {
      dk('network', 'rm', name);
      break;
    } catch {
      await sleep(1000);
    }
  }
}
