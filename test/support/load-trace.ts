/**
 * Which modules a real process of ours loaded: runs node with
 * load-trace/register.mjs (module hooks for ESM, require.cache for CommonJS)
 * and answers whether ssh2 or listr2 was among them. ssh2 is external to the
 * esbuild bundle (a node_modules path); listr2 is bundled, so a loaded chunk
 * "is" listr2 when esbuild's path comment for one of listr2's files is in it
 * (`// ../main/node_modules/listr2/dist/index.js`, unminified output).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REGISTER = fileURLToPath(new URL('./load-trace/register.mjs', import.meta.url));
const LISTR2_CHUNK = /^\/\/ \S*node_modules\/listr2\//m;

export interface LoadTrace {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Every file loaded (paths; file: URLs turned into paths). */
  files: string[];
  ssh2: boolean;
  listr2: boolean;
}

const isListr2 = (file: string): boolean => {
  if (/node_modules\/listr2\//.test(file)) return true;
  if (!/\/dist\/cli\/.*\.js$/.test(file)) return false;
  return LISTR2_CHUNK.test(readFileSync(file, 'utf8'));
};

/** node --import register.mjs ARGS…, in env (merged over the current one). */
export function traceLoads(args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string): LoadTrace {
  const dir = mkdtempSync(join(tmpdir(), 'nd-trace-'));
  const out = join(dir, 'loads');
  try {
    const r = spawnSync(process.execPath, ['--import', REGISTER, ...args], {
      encoding: 'utf8',
      env: { ...process.env, ...env, ND_LOAD_TRACE: out },
      cwd,
      timeout: 60_000,
    });
    let text = '';
    try {
      text = readFileSync(out, 'utf8');
    } catch {
      // nothing loaded past the hook: an empty trace
    }
    const files = [
      ...new Set(
        text
          .split('\n')
          .filter((l) => l !== '')
          .map((l) => (l.startsWith('file:') ? fileURLToPath(l) : l)),
      ),
    ];
    return {
      code: r.status,
      stdout: r.stdout,
      stderr: r.stderr,
      files,
      ssh2: files.some((f) => /node_modules\/ssh2\//.test(f)),
      listr2: files.some(isListr2),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
