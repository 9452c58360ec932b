/**
 * Splitting the argv that the Docker CLI hands a plugin.
 *
 * docker/cli's `PluginRunCommand` execs the plugin with the *full original*
 * arguments (`os.Args[1:]`), so `docker -H unix:///x.sock -D netdoctor nodes`
 * reaches us as `-H unix:///x.sock -D netdoctor nodes`, and
 * `docker help netdoctor` reaches us as `help netdoctor`. Running
 * `docker-netdoctor nodes` directly gives just our own arguments.
 *
 * We parse docker's global flags (the ones that matter for reaching a daemon,
 * plus debug/log level) from the front, drop the plugin name, and leave the
 * rest to oclif.
 */
import type { DockerGlobalOptions } from '../docker/endpoint.js';
import { usageError } from '../errors.js';

export const PLUGIN_NAME = 'netdoctor';

export interface SplitArgv {
  /** docker's global flags given before the plugin name. */
  globals: DockerGlobalOptions;
  /** Arguments for our own command parser (oclif). */
  args: string[];
  /** True when the Docker CLI ran us (it sets DOCKER_CLI_PLUGIN_ORIGINAL_CLI_COMMAND). */
  viaDocker: boolean;
}

type FlagKind = 'string' | 'bool';
interface GlobalFlag {
  key: keyof DockerGlobalOptions;
  kind: FlagKind;
  repeat?: boolean;
}

/** docker's persistent root flags (cli/flags/options.go), by spelling. */
const GLOBAL_FLAGS: Record<string, GlobalFlag> = {
  '--host': { key: 'host', kind: 'string', repeat: true },
  '-H': { key: 'host', kind: 'string', repeat: true },
  '--context': { key: 'context', kind: 'string' },
  '-c': { key: 'context', kind: 'string' },
  '--config': { key: 'config', kind: 'string' },
  '--tls': { key: 'tls', kind: 'bool' },
  '--tlsverify': { key: 'tlsverify', kind: 'bool' },
  '--tlscacert': { key: 'tlscacert', kind: 'string' },
  '--tlscert': { key: 'tlscert', kind: 'string' },
  '--tlskey': { key: 'tlskey', kind: 'string' },
  '--debug': { key: 'debug', kind: 'bool' },
  '-D': { key: 'debug', kind: 'bool' },
  '--log-level': { key: 'logLevel', kind: 'string' },
  '-l': { key: 'logLevel', kind: 'string' },
};

const parseBool = (flag: string, value: string): boolean => {
  if (['true', '1', 't', 'T', 'TRUE', 'True'].includes(value)) return true;
  if (['false', '0', 'f', 'F', 'FALSE', 'False'].includes(value)) return false;
  throw usageError(`invalid argument "${value}" for "${flag}" flag: expected a boolean`);
};

function assign(globals: DockerGlobalOptions, flag: string, spec: GlobalFlag, value: string | boolean): void {
  const g = globals as Record<string, unknown>;
  if (spec.repeat) {
    const list = (g[spec.key] as string[] | undefined) ?? [];
    list.push(value as string);
    g[spec.key] = list;
  } else {
    g[spec.key] = spec.kind === 'bool' && typeof value === 'string' ? parseBool(flag, value) : value;
  }
}

/**
 * Consume the global flag(s) at argv[i] the way spf13/pflag (docker's flag
 * parser) does. Returns how many tokens were used, or 0 when argv[i] is not
 * made of docker global flags (then it is the plugin name or our own args).
 *
 *   --name value | --name=value     (a bool takes no value: --tls, --tls=false)
 *   -H value | -Hvalue | -H=value
 *   -Dc prod | -DH unix:///x | -Dcprod   (combined shorthands: bools first,
 *                                        the first string flag takes the rest
 *                                        of the token or the next argument)
 */
function consumeGlobal(argv: string[], i: number, globals: DockerGlobalOptions): number {
  const token = argv[i]!;
  if (token.startsWith('--')) {
    const eq = token.indexOf('=');
    const name = eq > 0 ? token.slice(0, eq) : token;
    const spec = Object.hasOwn(GLOBAL_FLAGS, name) ? GLOBAL_FLAGS[name] : undefined;
    if (!spec || name.length <= 2) return 0;
    if (eq > 0) {
      assign(globals, name, spec, token.slice(eq + 1));
      return 1;
    }
    if (spec.kind === 'bool') {
      assign(globals, name, spec, true);
      return 1;
    }
    const value = argv[i + 1];
    if (value === undefined) throw usageError(`flag needs an argument: ${token}`);
    assign(globals, name, spec, value);
    return 2;
  }
  if (!/^-[^-]/.test(token)) return 0;
  // Check first that every shorthand up to the first string flag is one of docker's,
  // so that our own flags (e.g. `-v` for check when run directly) are left alone.
  const shorts = token.slice(1);
  for (let k = 0; k < shorts.length; k++) {
    const spec = shortSpec(shorts[k]!);
    if (!spec) return 0;
    if (spec.kind === 'string' || shorts[k + 1] === '=') break;
  }
  let used = 1;
  for (let k = 0; k < shorts.length; k++) {
    const c = shorts[k]!;
    const flag = `-${c}`;
    const spec = shortSpec(c)!;
    const rest = shorts.slice(k + 1);
    if (rest.startsWith('=')) {
      assign(globals, flag, spec, rest.slice(1));
      break;
    }
    if (spec.kind === 'bool') {
      assign(globals, flag, spec, true);
      continue;
    }
    if (rest !== '') {
      assign(globals, flag, spec, rest);
      break;
    }
    const value = argv[i + 1];
    if (value === undefined) throw usageError(`flag needs an argument: '${c}' in -${shorts}`);
    assign(globals, flag, spec, value);
    used = 2;
    break;
  }
  return used;
}

function shortSpec(c: string): GlobalFlag | undefined {
  const k = `-${c}`;
  return Object.hasOwn(GLOBAL_FLAGS, k) ? GLOBAL_FLAGS[k] : undefined;
}

/** Split argv (without node and script) into docker globals and our args. */
export function splitPluginArgv(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): SplitArgv {
  const list = [...argv];
  const globals: DockerGlobalOptions = {};
  let i = 0;
  while (i < list.length) {
    // pflag: `--` ends the flags; what follows is the command (`docker -D -- netdoctor`).
    if (list[i] === '--') {
      i++;
      break;
    }
    const used = consumeGlobal(list, i, globals);
    if (used === 0) break;
    i += used;
  }
  let args = list.slice(i);
  if (args[0] === 'help' && args[1] === PLUGIN_NAME) {
    // `docker help netdoctor [sub…]` → our help for that command.
    args = [...args.slice(2), '--help'];
  } else if (args[0] === PLUGIN_NAME) {
    args = args.slice(1);
  }
  return { globals, args: withDefaultCommand(args), viaDocker: env.DOCKER_CLI_PLUGIN_ORIGINAL_CLI_COMMAND !== undefined };
}

/** The command run when none is named: `docker netdoctor [--flags]` is `check`. */
export const DEFAULT_COMMAND = 'check';
const ROOT_FLAGS = new Set(['--help', '-h', '--version']);

export function withDefaultCommand(args: string[]): string[] {
  const first = args[0];
  if (first === undefined) return [DEFAULT_COMMAND];
  if (first.startsWith('-') && !ROOT_FLAGS.has(first)) return [DEFAULT_COMMAND, ...args];
  return args;
}
