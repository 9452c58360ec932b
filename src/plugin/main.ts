/**
 * Process entry (after the metadata fast path in bin/docker-netdoctor):
 * split docker's argv, run the oclif command, and turn every error into one
 * line on stderr with a documented exit code.
 */
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { ExitCode, NetdoctorError } from '../errors.js';
import { sanitize, sanitizeLine } from '../text/sanitize.js';
import { splitPluginArgv } from './argv.js';
import { setDockerGlobals } from './globals.js';

/** Exit code of an error: ours, oclif's (parse errors are 2), else 1. */
export function exitCodeOf(err: unknown): number {
  if (err instanceof NetdoctorError) return err.exitCode;
  const oclif = (err as { oclif?: { exit?: number } } | null)?.oclif;
  if (typeof oclif?.exit === 'number') return oclif.exit;
  return ExitCode.Findings;
}

/** One line, no stack: `docker netdoctor: <message>`, control characters escaped (file names, node names and bundle contents end up in messages). */
export function oneLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  // oclif prefixes parse errors with a newline-separated "See more help" hint.
  const first = message.split('\n').find((l) => l.trim() !== '') ?? 'unknown error';
  return `docker netdoctor: ${sanitizeLine(first.replace(/^Error:\s*/, '').trim())}`;
}

/**
 * The Docker CLI passes DOCKER_CLI_PLUGIN_SOCKET: it closes that connection
 * when the user interrupts `docker`, and the plugin is expected to stop.
 */
function watchDockerCliSocket(env: NodeJS.ProcessEnv): void {
  const name = env.DOCKER_CLI_PLUGIN_SOCKET;
  if (!name) return;
  const path = name.startsWith('@') ? `\0${name.slice(1)}` : name;
  const sock = connect(path);
  sock.on('error', () => undefined);
  sock.on('data', () => undefined);
  sock.on('end', () => process.kill(process.pid, 'SIGINT'));
  sock.unref();
}

/** What oclif prints for --version (its config.userAgent), without loading oclif. */
export function versionLine(root: string): string {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string; version: string };
  return `${pkg.name}/${pkg.version} ${process.platform}-${process.arch} node-${process.version}`;
}

export async function main(argv: string[], root: string): Promise<void> {
  let debug = false;
  // oclif is loaded only when a command or help runs; the version needs none of it.
  let oclif: typeof import('@oclif/core') | undefined;
  try {
    const split = splitPluginArgv(argv);
    debug = split.globals.debug === true;
    if (split.args.length === 1 && split.args[0] === '--version') {
      process.stdout.write(`${versionLine(root)}\n`);
      return;
    }
    setDockerGlobals(split.globals);
    if (split.viaDocker) watchDockerCliSocket(process.env);
    // @oclif/core is CommonJS: Node gives its exports as named ones too, a bundler only as the default.
    const loaded = (await import('@oclif/core')) as typeof import('@oclif/core') & { default?: typeof import('@oclif/core') };
    oclif = loaded.default ?? loaded;
    await oclif.run(split.args, root);
    await oclif.flush();
  } catch (err) {
    if (oclif && err instanceof oclif.Errors.ExitError) {
      process.exitCode = err.oclif.exit ?? ExitCode.Ok;
      return;
    }
    process.stderr.write(`${oneLine(err)}\n`);
    if (debug && err instanceof Error && err.stack) process.stderr.write(`${sanitize(err.stack)}\n`);
    process.exitCode = exitCodeOf(err);
  }
}
