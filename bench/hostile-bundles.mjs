// Crafted bundles (no lab needed): how long the real CLI takes to refuse or
// analyse each one, side by side with a good bundle, and the CLI's peak RSS.
// Built from the recorded example bundle (examples/) with dist/ (npm run build).
//
//   node bench/hostile-bundles.mjs        (BENCH_RUNS=5 by default; medians)
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Header } from 'tar';
import { readBundle } from '../dist/bundle/read.js';
import { fmt, machineLine, median, runs } from './lib.mjs';

const ROOT = new URL('../', import.meta.url).pathname;
const BIN = join(ROOT, 'bin', 'docker-netdoctor');
const dir = mkdtempSync(join(tmpdir(), 'nd-bench-hostile-'));
const N = runs();

function tarOf(entries) {
  const out = [];
  for (const e of entries) {
    const data = Buffer.from(e.data ?? '');
    const block = Buffer.alloc(512);
    new Header({ path: e.path, mode: 0o644, size: e.size ?? data.length, mtime: new Date(0), type: 'File' }).encode(block);
    out.push(block, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  out.push(Buffer.alloc(1024));
  return Buffer.concat(out);
}

const base = await readBundle(join(ROOT, 'examples', 'netdoctor-lab-fdb-wrong-dst.tar.gz'));
const entries = () => [...base.files].map(([path, data]) => ({ path, data }));
const sha = (d) => createHash('sha256').update(d).digest('hex');
function withFile(path, data) {
  const m = structuredClone(base.manifest);
  m.files[path] = sha(data);
  return entries().map((e) => (e.path === path ? { path, data } : e.path === 'manifest.json' ? { path: e.path, data: JSON.stringify(m) } : e));
}
const put = (name, tar) => {
  const f = join(dir, name);
  writeFileSync(f, gzipSync(tar));
  return f;
};

const snap = structuredClone(base.snapshot);
snap.cluster.networks.forEach((n) => (n.encrypted = n.driver === 'overlay'));
for (const n of snap.nodes)
  for (const sb of n.sandboxes)
    if (sb.kind === 'overlay')
      n.raw[`netns/${sb.name}/xfrm-state`] = {
        stdout: `src 10.213.0.11 dst 10.213.0.12\n\tproto esp spi 0x1${' \t'.repeat(64_000)}x\n`,
        stderr: '',
        rc: 0,
      };
const malformed = structuredClone(base.snapshot);
delete malformed.nodes[0].host.interfaces;
const ctl = structuredClone(base.manifest);
ctl.argv = ['bundle', '\u001b[2J\u001b]8;;http://evil/\u0007'];

// A header declaring 1000 MiB, then the zeros: about 1 MB of gzip.
const bigHeader = Buffer.alloc(512);
new Header({ path: 'snapshot.json', mode: 0o644, size: 1000 * 2 ** 20, mtime: new Date(0), type: 'File' }).encode(bigHeader);
const big = join(dir, 'big-entry.tar.gz');
writeFileSync(big, gzipSync(Buffer.concat([bigHeader, Buffer.alloc(1000 * 2 ** 20), Buffer.alloc(1024)]), { level: 9 }));

const cases = [
  ['good bundle (examples/)', join(ROOT, 'examples', 'netdoctor-lab-fdb-wrong-dst.tar.gz'), ['bundle', 'inspect']],
  [
    'control characters in the manifest',
    put('ctl.tar.gz', tarOf(entries().map((e) => (e.path === 'manifest.json' ? { path: e.path, data: JSON.stringify(ctl) } : e)))),
    ['bundle', 'inspect'],
  ],
  ['entry named constructor', put('proto.tar.gz', tarOf([...entries(), { path: 'constructor', data: 'x' }])), ['bundle', 'inspect']],
  [
    '127 KB xfrm line (check --from-bundle)',
    put('xfrm.tar.gz', tarOf(withFile('snapshot.json', JSON.stringify(snap)))),
    ['check', '--format', 'json', '--from-bundle'],
  ],
  ['1000 MiB entry in a small bundle', big, ['bundle', 'inspect']],
  ['malformed snapshot', put('malformed.tar.gz', tarOf(withFile('snapshot.json', JSON.stringify(malformed)))), ['bundle', 'inspect']],
];

console.log(machineLine());
console.log(`median of ${N} runs of the real CLI (node start-up and oclif included), peak RSS from GNU time`);
for (const [what, file, args] of cases) {
  const ms = [];
  let rss = 0;
  let last;
  for (let i = 0; i <= N; i++) {
    const t = performance.now();
    last = spawnSync('/usr/bin/time', ['-f', 'maxrss_kb=%M', process.execPath, BIN, ...args, file], { encoding: 'utf8', maxBuffer: 256 * 2 ** 20 });
    if (i > 0) ms.push(performance.now() - t);
    rss = Math.max(rss, Number(/maxrss_kb=(\d+)/.exec(last.stderr)?.[1] ?? 0));
  }
  const t = performance.now();
  await readBundle(file).catch(() => undefined);
  const inproc = performance.now() - t;
  const msg = last.stderr.split('\n').find((l) => l.startsWith('docker netdoctor:')) ?? '';
  console.log(
    `${what.padEnd(40)} exit ${last.status}  cli ${fmt(median(ms))}  readBundle ${fmt(inproc)}  rss ${Math.round(rss / 1024)} MiB  ${msg.slice(0, 110)}`,
  );
}
rmSync(dir, { recursive: true, force: true });
