/**
 * Reading a stack exactly as `docker stack deploy` will: `docker stack config
 * -c … [-c …]` (the docker CLI that started the plugin, else `docker` on
 * PATH) merges the files and interpolates ${VAR} from the environment; its
 * normalised output is parsed here. Its errors are the user's: one line,
 * exit 2. No compose parser of our own.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { isMap, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import { NetdoctorError, ExitCode, usageError } from '../errors.js';
import type { StackFile, StackLocation } from './types.js';

/** The docker binary that runs this plugin (the CLI tells plugins), else `docker` from PATH. */
export function dockerBinary(env: NodeJS.ProcessEnv = process.env): string {
  const original = env.DOCKER_CLI_PLUGIN_ORIGINAL_CLI_COMMAND;
  return original && original.trim() !== '' ? original : 'docker';
}

const MAX_OUTPUT = 16 * 2 ** 20;

/** `docker stack config` on the files; resolves its stdout, or a one-line error naming the file. */
export function stackConfig(files: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const args = ['stack', 'config', ...files.flatMap((f) => ['-c', f])];
  const bin = dockerBinary(env);
  return new Promise((resolve, reject) => {
    execFile(bin, args, { env, maxBuffer: MAX_OUTPUT, timeout: 30_000, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT')
        return reject(new NetdoctorError(`cannot read the stack: no docker CLI (${bin}) to run \`docker stack config\``, ExitCode.Unreachable));
      const first =
        stderr
          .split('\n')
          .find((l) => l.trim() !== '')
          ?.trim() ?? err.message;
      reject(usageError(`invalid stack (${files.join(', ')}): ${first}`));
    });
  });
}

interface Parsed {
  file: string;
  doc: Document;
  lines: LineCounter;
}

async function parseOriginal(file: string): Promise<Parsed | null> {
  if (file === '-') return null;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return null;
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, keepSourceTokens: false, uniqueKeys: false });
  return { file, doc, lines };
}

/** Finds where a key path is set in the user's files (the last file that sets it wins, as compose merges). */
export class Locator {
  private constructor(private readonly parsed: Parsed[]) {}

  static async load(files: readonly StackFile[]): Promise<Locator> {
    const parsed = await Promise.all(files.map((f) => parseOriginal(f.path)));
    return new Locator(parsed.filter((p): p is Parsed => p !== null));
  }

  /** `['services', 'web', 'ports']` → `docker-stack.yml:14`, or the closest ancestor that exists. */
  locate(path: readonly string[]): StackLocation | null {
    for (let depth = path.length; depth > 0; depth--) {
      for (const p of [...this.parsed].reverse()) {
        const line = lineOf(p, path.slice(0, depth));
        if (line !== null) return { file: p.file, line };
      }
    }
    return null;
  }
}

function lineOf(p: Parsed, path: readonly string[]): number | null {
  let node: unknown = p.doc.contents;
  let keyOffset: number | null = null;
  for (const key of path) {
    if (!isMap(node)) return null;
    const pair = node.items.find((it) => isScalar(it.key) && String(it.key.value) === key);
    if (!pair) return null;
    keyOffset = isScalar(pair.key) && pair.key.range ? pair.key.range[0] : null;
    node = pair.value;
  }
  return keyOffset === null ? null : p.lines.linePos(keyOffset).line;
}
