/**
 * Flags shared by the commands that reach nodes (collect, check, bundle).
 */
import { Flags } from '@oclif/core';
import type { CollectOptions } from './collect/collect.js';
import { COLLECT_DEFAULTS } from './collect/defaults.js';
import { PROBE_DEFAULTS, PROBE_PAIRS } from './probe/options.js';

/** The environment variable that stands for --since when the flag is not given (CI, test suites). */
export const SINCE_ENV = 'NETDOCTOR_SINCE';
const SINCE_FORMS = 'a duration (30m, 2h, 1d), a date/time (2026-01-31T10:00:00Z; UTC when no zone) or @<epoch>';

/** --since of bundle (no default: the last --log-lines lines; a bundle is asked for by hand, so no environment variable). */
export const sinceFlag = (what: string) => Flags.string({ description: `${what} since then: ${SINCE_FORMS}` });
/** --since of check and gate: the log layer's window, the last hour by default. */
export const sinceWindowFlag = (what: string) => Flags.string({ description: `${what} since then: ${SINCE_FORMS}`, env: SINCE_ENV, default: '1h' });

export const nodeFlags = {
  node: Flags.string({ description: 'Only this swarm node (by name); repeatable', multiple: true }),
  // No `exists`: a missing file is reported like any bad input (one line, exit 2).
  inventory: Flags.file({ description: 'YAML inventory mapping node names to SSH host, port, user, identity and jump host' }),
  identity: Flags.file({
    char: 'i',
    description: 'Private key for SSH (tried after the agent); passphrase from NETDOCTOR_SSH_PASSPHRASE or a prompt on a TTY',
    env: 'NETDOCTOR_SSH_IDENTITY',
  }),
  'ssh-config': Flags.string({
    description:
      'ssh_config file to honour, like ssh -F (read by `ssh -G` when ssh is installed, else by a built-in reader); default ~/.ssh/config then /etc/ssh/ssh_config, "none" to skip',
  }),
  'ssh-user': Flags.string({
    description:
      'SSH user for nodes whose inventory entry names none; wins over ssh_config, like ssh -l (default: ssh_config, else your login name); non-root users need passwordless sudo',
  }),
  'ssh-port': Flags.integer({
    description: 'SSH port for nodes whose inventory entry names none; wins over ssh_config, like ssh -p',
    min: 1,
    max: 65535,
  }),
  jump: Flags.string({ description: 'ProxyJump for every node: [user@]host[:port][,…]' }),
  'known-hosts': Flags.string({
    description: 'known_hosts file to verify host keys against (replaces ~/.ssh/known_hosts)',
    env: 'NETDOCTOR_SSH_KNOWN_HOSTS',
  }),
  'accept-new-host-keys': Flags.boolean({ description: 'Trust unknown host keys on first use and record them; a changed key is still refused' }),
  concurrency: Flags.integer({ description: 'Nodes collected at once', default: COLLECT_DEFAULTS.concurrency, min: 1 }),
  'connect-timeout': Flags.integer({
    description: 'Seconds to establish each SSH connection',
    default: COLLECT_DEFAULTS.connectTimeoutMs / 1000,
    min: 1,
  }),
  'node-timeout': Flags.integer({
    description: "Seconds for one node's whole collection before it is reported as timed out",
    default: COLLECT_DEFAULTS.nodeTimeoutMs / 1000,
    min: 1,
  }),
};

type NodeFlagValues = {
  node?: string[] | undefined;
  inventory?: string | undefined;
  identity?: string | undefined;
  'ssh-config'?: string | undefined;
  'ssh-user'?: string | undefined;
  'ssh-port'?: number | undefined;
  jump?: string | undefined;
  'known-hosts'?: string | undefined;
  'accept-new-host-keys': boolean;
  concurrency: number;
  'connect-timeout': number;
  'node-timeout': number;
};

const defined = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

export function collectOptionsFromFlags(f: NodeFlagValues, onWarning?: (m: string) => void): CollectOptions {
  return {
    ...(f.node ? { nodes: f.node } : {}),
    ssh: defined({
      inventoryFile: f.inventory,
      identity: f.identity,
      sshConfigFile: f['ssh-config'],
      user: f['ssh-user'],
      port: f['ssh-port'],
      jump: f.jump,
      knownHostsFile: f['known-hosts'],
      acceptNewHostKeys: f['accept-new-host-keys'],
    }),
    concurrency: f.concurrency,
    connectTimeoutMs: f['connect-timeout'] * 1000,
    nodeTimeoutMs: f['node-timeout'] * 1000,
    ...(onWarning ? { events: { onWarning } } : {}),
  };
}

/** The probe flags of the commands that probe (check, bundle). */
export const probeFlags = {
  probe: Flags.boolean({ description: 'Run the active probes (underlay ports, path MTU, overlay data path)', default: true, allowNo: true }),
  'probe-timeout': Flags.integer({ description: 'Seconds each probe may take', default: PROBE_DEFAULTS.timeoutSec, min: 1 }),
  'probe-pairs': Flags.string({
    description:
      'Node pairs that get TCP 7946, DF and overlay pings: auto (every pair up to 20 nodes, above that a covering subset of about log2(N) peers per node; UDP and tcp/2377 always on every pair) or all',
    options: [...PROBE_PAIRS],
    default: 'auto',
  }),
};
