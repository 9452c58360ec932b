// Time SSH target resolution (no lab needed): N swarm nodes resolved by a
// fresh `node` process with the `ssh -G` resolver and with the built-in
// reader, side by side. Each figure is the median of BENCH_RUNS whole-process
// runs (one warm-up first). The config has a bastion, Match blocks and an
// Include, so every node is one `ssh -G` and the jump host one more (memoised).
//
//   npm run build && node bench/resolve.mjs            # N = 3, 64, 256
//   BENCH_NODES=16,512 node bench/resolve.mjs
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmt, machineLine, median, runs } from './lib.mjs';

const dist = fileURLToPath(new URL('../dist/ssh/config.js', import.meta.url));
const sizes = (process.env.BENCH_NODES ?? '3,64,256').split(',').map(Number);
const dir = mkdtempSync(join(tmpdir(), 'nd-bench-resolve-'));
mkdirSync(join(dir, 'conf.d'));
writeFileSync(join(dir, 'conf.d', 'lab.conf'), 'Host 10.213.*\n  User root\n');
writeFileSync(
  join(dir, 'config'),
  `Include ${dir}/conf.d/*.conf\nHost bastion\n  HostName 198.51.100.7\n  User ops\nMatch host 10.213.*,!10.213.0.1\n  ProxyJump bastion\n  StrictHostKeyChecking accept-new\nHost *\n  ServerAliveInterval 30\n`,
);

const script = `
import { resolveTargets } from ${JSON.stringify(dist)};
const n = Number(process.argv[1]);
const nodes = Array.from({ length: n }, (_, i) => ({ name: 'node' + i, sshAddress: '10.213.' + (i >> 8) + '.' + ((i & 255) + 1) }));
const t = await resolveTargets(nodes, { sshConfigFile: ${JSON.stringify(join(dir, 'config'))}, resolver: process.argv[2] });
if (t.length !== n) process.exit(1);
`;

function time(n, resolver) {
  const once = () => {
    const started = process.hrtime.bigint();
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, String(n), resolver], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`resolve ${n} with ${resolver} failed: ${r.stderr}`);
    return Number(process.hrtime.bigint() - started) / 1e6;
  };
  once();
  return median(Array.from({ length: runs() }, once));
}

console.log(machineLine());
console.log(
  execFileSync('ssh', ['-V'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }) ||
    spawnSync('ssh', ['-V'], { encoding: 'utf8' }).stderr.trim(),
);
console.log('nodes  ssh -G      parser');
for (const n of sizes) console.log(`${String(n).padEnd(6)} ${fmt(time(n, 'ssh')).padEnd(11)} ${fmt(time(n, 'parser'))}`);
rmSync(dir, { recursive: true, force: true });
