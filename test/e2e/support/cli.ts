/**
 * Running the real `docker` CLI with our plugin installed in a private
 * DOCKER_CONFIG, and our executable directly.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const BIN = join(ROOT, 'bin', 'docker-netdoctor');

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 120_000): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { env: { ...process.env, NO_COLOR: '1', ...env }, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

/** A temp docker config dir with the plugin installed the way users do it. */
export async function pluginConfigDir(): Promise<{ dir: string; cleanup: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'nd-docker-config-'));
  const r = await run(BIN, ['plugin', 'install'], { DOCKER_CONFIG: dir });
  if (r.code !== 0) throw new Error(`plugin install failed: ${r.stderr}`);
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** `docker …` with our DOCKER_CONFIG, without inherited endpoint variables. */
export function docker(configDir: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  return run('docker', args, { DOCKER_HOST: '', DOCKER_CONTEXT: '', DOCKER_CONFIG: configDir, ...env });
}

/** The one-line error contract: a single `docker netdoctor: …` line and no stack. */
export function expectOneLineError(r: RunResult): string {
  const lines = r.stderr.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('exit status'));
  if (lines.length !== 1) throw new Error(`expected one stderr line, got:\n${r.stderr}`);
  if (/\n\s+at /.test(r.stderr)) throw new Error(`stack trace on stderr:\n${r.stderr}`);
  return lines[0]!;
}
