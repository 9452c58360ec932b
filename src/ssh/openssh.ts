/**
 * How OpenSSH itself would reach a host: `ssh -G [-F file] [-l user] [-p port]
 * [-i key]… -- HOST` prints the configuration ssh would use after reading
 * ssh_config (Host/Match, Include, CanonicalizeHostname, defaults) without
 * connecting. This is the primary resolver when an `ssh` binary exists;
 * readconf.ts is the fallback that copies its semantics.
 *
 * Notes on `ssh -G` output (OpenSSH 9.x, ssh.c + readconf.c dump_client_config):
 *  - `hostname` is lower-cased (unless an address) and canonicalized;
 *  - `identityfile` lines are raw (tokens and ~ are expanded only when ssh
 *    loads the keys), one per line; with none configured, ssh's defaults;
 *  - `userknownhostsfile` is expanded, `globalknownhostsfile` is not; both
 *    are printed on one line separated by spaces;
 *  - `proxyjump` re-serialises the chain (numeric hosts in brackets);
 *  - `Match exec` commands in the user's config ARE run (as `ssh` would run them).
 */
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { usageError } from '../errors.js';
import type { Passwd } from './readconf.js';
import { tildeExpand } from './readconf.js';

/** What `ssh -G` says, for the options netdoctor uses. */
export interface SshGOutput {
  hostname: string;
  port: number;
  user: string;
  identityFiles: string[];
  proxyJump?: string;
  proxyCommand?: string;
  /** The raw one-line list (paths may contain spaces). */
  userKnownHostsLine: string;
  globalKnownHostsLine: string;
  strictHostKeyChecking: string;
  hostKeyAlias?: string;
  identitiesOnly: boolean;
  identityAgent?: string;
}

export interface SshGOptions {
  /** argv prefix that runs ssh (default ['ssh']); tests wrap it to give ssh a throwaway home. */
  command?: string[];
  configFile?: string;
  user?: string;
  port?: number;
  identities?: string[];
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

const MAX_OUTPUT = 256 * 1024;

const printable = (s: string) => s.replace(/[\x00-\x1f\x7f]/g, '?');

/** The `ssh` executable on PATH, or null. */
export function findSsh(env: NodeJS.ProcessEnv = process.env): string | null {
  for (const dir of (env.PATH ?? '/usr/bin:/bin').split(delimiter)) {
    if (dir === '') continue;
    const p = join(dir, 'ssh');
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return null;
}

/** The argv for one `ssh -G` run (without the command prefix). */
export function sshGArgs(host: string, o: Omit<SshGOptions, 'command'>): string[] {
  const args = ['-G'];
  if (o.configFile !== undefined) args.push('-F', o.configFile);
  if (o.user !== undefined) args.push('-l', o.user);
  if (o.port !== undefined) args.push('-p', String(o.port));
  for (const i of o.identities ?? []) args.push('-i', i);
  args.push('--', host);
  return args;
}

export async function sshG(host: string, o: SshGOptions = {}): Promise<SshGOutput> {
  const [cmd, ...pre] = o.command ?? ['ssh'];
  const args = [...pre, ...sshGArgs(host, o)];
  const timeoutMs = o.timeoutMs ?? 10_000;
  const { stdout, stderr, code, killed } = await new Promise<{ stdout: string; stderr: string; code: number | null; killed: boolean }>((resolve) => {
    execFile(cmd!, args, { timeout: timeoutMs, maxBuffer: MAX_OUTPUT, env: o.env ?? process.env, encoding: 'utf8' }, (err, out, errOut) => {
      const c = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : null) : 0;
      const spawnFailed = err && typeof (err as { code?: unknown }).code === 'string';
      resolve({ stdout: out, stderr: errOut || (spawnFailed ? err.message : ''), code: c, killed: err?.killed === true });
    });
  });
  if (killed) {
    throw usageError(`ssh -G ${printable(host)} did not answer within ${timeoutMs / 1000} s (a Match exec command that hangs?)`);
  }
  if (code !== 0) {
    const why =
      stderr
        .split('\n')
        .map((l) => l.trim())
        .find((l) => l !== '' && !/^Pseudo-terminal/.test(l)) ?? `exited ${code ?? 'abnormally'}`;
    throw usageError(`ssh -G ${printable(host)}: ${printable(why)}`);
  }
  return parseSshG(stdout);
}

/** Parse `ssh -G` output (lower-case keyword, space, value). */
export function parseSshG(text: string): SshGOutput {
  const one = new Map<string, string>();
  const identityFiles: string[] = [];
  for (const line of text.split('\n')) {
    const sp = line.indexOf(' ');
    if (sp <= 0) continue;
    const k = line.slice(0, sp).toLowerCase();
    const v = line.slice(sp + 1);
    if (k === 'identityfile') identityFiles.push(v);
    else if (!one.has(k)) one.set(k, v);
  }
  const port = Number(one.get('port') ?? '22');
  const out: SshGOutput = {
    hostname: one.get('hostname') ?? '',
    port: Number.isInteger(port) && port > 0 ? port : 22,
    user: one.get('user') ?? '',
    identityFiles,
    userKnownHostsLine: one.get('userknownhostsfile') ?? '',
    globalKnownHostsLine: one.get('globalknownhostsfile') ?? '',
    strictHostKeyChecking: one.get('stricthostkeychecking') ?? 'ask',
    identitiesOnly: /^(yes|true)$/i.test(one.get('identitiesonly') ?? 'no'),
  };
  const pj = one.get('proxyjump');
  if (pj !== undefined) out.proxyJump = pj;
  const pc = one.get('proxycommand');
  if (pc !== undefined) out.proxyCommand = pc;
  const alias = one.get('hostkeyalias');
  if (alias !== undefined) out.hostKeyAlias = alias;
  const agent = one.get('identityagent');
  if (agent !== undefined) out.identityAgent = agent;
  return out;
}

/**
 * Split a known-hosts line from `ssh -G` into files. ssh joins them with
 * spaces, so a path with a space is ambiguous; expanded user files are
 * absolute, so split before each " /" and, when `hint` (what the parser read)
 * joins to the same text, trust the hint.
 */
export function splitKnownHostsLine(line: string, pw: Passwd, hint?: string[]): string[] {
  if (line === '' || line.toLowerCase() === 'none') return [];
  if (hint && hint.map((h) => tildeExpand(h, pw)).join(' ') === line) return hint.map((h) => tildeExpand(h, pw));
  const pieces = line.split(/ (?=\/)/);
  return pieces.flatMap((p) => (p.includes(' ') && !p.startsWith('/') ? p.split(' ') : [p]));
}
