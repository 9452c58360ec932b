/**
 * Runs that make no SSH connection and show no staged view do not load ssh2
 * or listr2 (bench/gate.mjs: they were most of what `gate --no-live` cost
 * over a bare node). The real built executable (needs `npm run build`) runs
 * under a module-load tracer (test/support/load-trace.ts); the controls show
 * the tracer sees both when they are loaded, and that the bundle keeps
 * listr2 in a chunk of its own (split, so the lazy import is really lazy).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { traceLoads } from '../../support/load-trace.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const BIN = join(ROOT, 'bin', 'docker-netdoctor');
const CHUNKS = join(ROOT, 'dist', 'cli', 'chunks');
const BUNDLE = join(ROOT, 'examples', 'netdoctor-lab-fdb-wrong-dst.tar.gz');
const STACK = join(ROOT, 'test', 'fixtures', 'stack', 'go.yml');
const tmp = mkdtempSync(join(tmpdir(), 'nd-lazy-'));
// No daemon behind it: commands that need the manager stop at exit 3, after every static import.
const env = { NO_COLOR: '1', DOCKER_HOST: `unix://${join(tmp, 'no-docker.sock')}`, DOCKER_CONTEXT: '', GITHUB_ACTIONS: '' };

beforeAll(() => {
  if (!existsSync(CHUNKS)) throw new Error('dist/cli/chunks is missing: run npm run build first');
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('what a run without SSH loads', { timeout: 60_000 }, () => {
  it.each([
    ['check --from-bundle (text)', ['check', '--from-bundle', BUNDLE], 1],
    ['check --from-bundle --format json', ['check', '--from-bundle', BUNDLE, '--format', 'json'], 1],
    ['bundle inspect', ['bundle', 'inspect', BUNDLE], 0],
    ['checks --only stack (oclif, not the fast path)', ['checks', '--only', 'stack'], 0],
    ['gate --no-live --format json (no daemon: exit 3)', ['gate', '--no-live', '-c', STACK, '--stack', 'x', '--format', 'json'], 3],
    ['nodes (no daemon: exit 3)', ['nodes'], 3],
  ] as const)('%s: neither ssh2 nor listr2', (_what, args, code) => {
    const t = traceLoads([BIN, ...args], env);
    expect(t.code, t.stderr).toBe(code);
    // The tracer saw the command's own bundle file.
    expect(t.files.some((f) => f.includes('/dist/cli/commands/'))).toBe(true);
    expect(t.ssh2, t.files.filter((f) => f.includes('ssh2')).join('\n')).toBe(false);
    expect(t.listr2).toBe(false);
  });
});

describe('the controls', { timeout: 60_000 }, () => {
  const listrChunks = readdirSync(CHUNKS)
    .map((f) => join(CHUNKS, f))
    .filter((f) => /^\/\/ \S*node_modules\/listr2\/dist\/index\.js$/m.test(readFileSync(f, 'utf8')));

  it('the bundle keeps listr2 in a chunk of its own, not in a command file or a shared chunk with the pipeline', () => {
    expect(listrChunks.length).toBeGreaterThan(0);
    for (const c of listrChunks) expect(readFileSync(c, 'utf8')).not.toMatch(/^\/\/ src\/run\/pipeline\.ts$/m);
  });

  it('the tracer sees listr2 when its chunk is loaded, and ssh2 when it is required', () => {
    const l = traceLoads(['--input-type=module', '-e', `await import(${JSON.stringify(pathToFileURL(listrChunks[0]!).href)});`], env, ROOT);
    expect(l.code, l.stderr).toBe(0);
    expect(l.listr2).toBe(true);
    expect(l.ssh2).toBe(false);
    const s = traceLoads(['-e', "require('ssh2')"], env, ROOT);
    expect(s.code, s.stderr).toBe(0);
    expect(s.ssh2).toBe(true);
  });
});
