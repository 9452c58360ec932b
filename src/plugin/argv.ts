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
 * Consume one global flag at argv[i]. Returns how many tokens it used, or 0
 * when argv[i] is not a docker global flag.
 */
function consumeGlobal(argv: string[], i: number, globals: DockerGlobalOptions): number {
  const token = argv[i]!;
  // --name=value
  const eq = token.startsWith('--') ? token.indexOf('=') : -1;
  if (eq > 0) {
    const name = token.slice(0, eq);
    const spec = GLOBAL_FLAGS[name];
    if (!spec) return 0;
    assign(globals, name, spec, token.slice(eq + 1));
    return 1;
  }
  const exact = GLOBAL_FLAGS[token];
  if (exact) {
    if (exact.kind === 'bool') {
      assign(globals, token, exact, true);
      return 1;
    }
    const value = argv[i + 1];
    if (value === undefined) throw usageError(`flag needs an argument: ${token}`);
    assign(globals, token, exact, value);
    return 2;
  }
  // pflag shorthand with attached value: -Hunix:///x.sock, -ldebug, -cmyctx
  if (/^-[A-Za-z]./.test(token) && !token.startsWith('--')) {
    const short = token.slice(0, 2);
    const spec = GLOBAL_FLAGS[short];
    if (spec && spec.kind === 'string') {
      assign(globals, short, spec, token.slice(2).replace(/^=/, ''));
      return 1;
    }
  }
  return 0;
}

/** Split argv (without node and script) into docker globals and our args. */
export function splitPluginArgv(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): SplitArgv {
  const list = [...argv];
  const globals: DockerGlobalOptions = {};
  let i = 0;
  while (i < list.length) {
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
