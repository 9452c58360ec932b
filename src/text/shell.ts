/**
 * The one rule for values that go into a command line a user may paste
 * (remediations, advice in errors): every value from the cluster or a bundle
 * (node names, network and service names, ids, addresses, paths) is
 * POSIX-shell quoted, so that pasting the line runs exactly the intended
 * command with the value as one argument, whatever the value holds
 * (`nd3;touch${IFS}/tmp/PWNED;#`, `$(id)`, backticks, newlines, quotes).
 *
 * - shq(v): v as it is when it is made only of characters no POSIX shell
 *   treats specially, else in single quotes ('it'\''s'). Inside single quotes
 *   nothing is special, so only the quote itself needs the '\'' dance.
 * - nameArg(v, kind): for a value that should be a plausible name of that
 *   kind: quoted as above when it is one; otherwise a placeholder, the quoted
 *   word '<node-name>', plus a reason, so the operator substitutes the value
 *   by hand. The placeholder still parses as one argument, and no docker
 *   object can be named like it, so a pasted line fails harmlessly.
 * - shcmd`docker node rm ${name}`: every interpolated value through shq().
 */
import { sanitizeLine } from './sanitize.js';

/** Characters that are never special to a POSIX shell, in any position of a word. */
const PLAIN = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** POSIX single quotes, always. */
export const shqAlways = (value: string): string => `'${value.replace(/'/g, `'\\''`)}'`;

/** One shell word for `value`: unquoted when nothing in it is special, else single-quoted. */
export function shq(value: string | number): string {
  const s = String(value);
  // `~` (tilde expansion), `*?[` (globs), `$`, quotes, blanks, `;&|<>()` and `#` are all outside PLAIN.
  return PLAIN.test(s) ? s : shqAlways(s);
}

/** `shcmd\`docker node rm ${name}\``: the literal parts as written, each value through shq(). */
export function shcmd(strings: TemplateStringsArray, ...values: (string | number)[]): string {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    out += (typeof v === 'number' ? String(v) : shq(v)) + (strings[i + 1] ?? '');
  });
  return out;
}

export type NameKind = 'node' | 'network' | 'service' | 'container' | 'id' | 'ip' | 'interface' | 'path';

/**
 * What a plausible value of each kind looks like. Deliberately a little wider
 * than the strict grammar (hostnames with `_`, docker names up to 255), and
 * always linear-time (character classes and a bounded length only).
 */
const PLAUSIBLE: Record<NameKind, { re: RegExp; what: string }> = {
  // RFC 1123 hostnames (plus `_`, which real hosts use), as docker node ls shows them.
  node: { re: /^[A-Za-z0-9][A-Za-z0-9_.-]{0,252}$/, what: 'a hostname' },
  // docker's own name rules: [a-zA-Z0-9][a-zA-Z0-9_.-]+
  network: { re: /^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$/, what: 'a docker network name' },
  service: { re: /^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$/, what: 'a docker service name' },
  container: { re: /^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$/, what: 'a docker container name' },
  id: { re: /^[A-Za-z0-9]{1,64}$/, what: 'a docker id' },
  ip: { re: /^(?:[0-9]{1,3}(?:\.[0-9]{1,3}){3}|[0-9A-Fa-f:.]{2,45})(?:\/[0-9]{1,3})?$/, what: 'an IP address' },
  // Linux IFNAMSIZ is 16 with the NUL; no '/', no whitespace.
  interface: { re: /^[A-Za-z0-9_.@:-]{1,15}$/, what: 'an interface name' },
  path: { re: /^\/[A-Za-z0-9_./@:+-]{0,4095}$/, what: 'a path' },
};

export interface NameArg {
  /** The shell word to put in the command: the quoted value, or a placeholder like <node-name>. */
  arg: string;
  /** Why a placeholder stands there (one line, control characters escaped); null when it is the value. */
  reason: string | null;
}

/** The value as a shell word when it is a plausible `kind`, else a placeholder and the reason. */
export function nameArg(value: string, kind: NameKind, placeholder = `'<${kind === 'node' ? 'node-name' : kind}>'`): NameArg {
  const p = PLAUSIBLE[kind];
  if (p.re.test(value)) return { arg: shq(value), reason: null };
  const shown = value.length > 80 ? `${value.slice(0, 80)}…` : value;
  return {
    arg: placeholder,
    reason: `${placeholder.replace(/'/g, '')} stands for ${JSON.stringify(sanitizeLine(shown))}, which is not ${p.what}; check it and type it by hand`,
  };
}

/** The reasons of the placeholders among `args`, as one sentence to append to a remediation ('' when none). */
export function placeholderNotes(args: readonly NameArg[]): string {
  const reasons = args.map((a) => a.reason).filter((r): r is string => r !== null);
  return reasons.length === 0 ? '' : ` (${reasons.join('; ')})`;
}

/**
 * A command as a code span in a remediation: the fence is one backtick longer
 * than any backtick run inside (CommonMark), padded when the command touches
 * a backtick, so a quoted value holding backticks cannot end the span early.
 * Plain commands come out as `cmd`.
 */
export function code(command: string): string {
  let longest = 0;
  let run = 0;
  for (const ch of command) {
    run = ch === '`' ? run + 1 : 0;
    if (run > longest) longest = run;
  }
  const fence = '`'.repeat(longest + 1);
  const pad = command.startsWith('`') || command.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${command}${pad}${fence}`;
}

/**
 * A value from the cluster in the prose of a remediation (not in a command):
 * one line, control characters escaped, and backticks shown as \x60 (the
 * sanitiser's notation), so a name cannot open a code span of its own that
 * a reader would take for a command.
 */
export const prose = (value: string): string => sanitizeLine(value).replace(/`/g, '\\x60');
