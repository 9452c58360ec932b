/**
 * Process entry (after the metadata fast path in bin/docker-netdoctor):
 * split docker's argv, run the oclif command, and turn every error into one
 * line on stderr with a documented exit code.
 */
import { connect } from 'node:net';
import { Errors, flush, run } from '@oclif/core';
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

export async function main(argv: string[], root: string): Promise<void> {
  let debug = false;
  try {
    const split = splitPluginArgv(argv);
    debug = split.globals.debug === true;
    setDockerGlobals(split.globals);
    if (split.viaDocker) watchDockerCliSocket(process.env);
    await run(split.args, root);
    await flush();
  } catch (err) {
    if (err instanceof Errors.ExitError) {
      process.exitCode = err.oclif.exit ?? ExitCode.Ok;
      return;
    }
    process.stderr.write(`${oneLine(err)}\n`);
    if (debug && err instanceof Error && err.stack) process.stderr.write(`${sanitize(err.stack)}\n`);
    process.exitCode = exitCodeOf(err);
  }
}
