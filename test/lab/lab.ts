// Test helper for the LAB: a real N-node Docker Swarm on this machine, one
// set of namespaces per node (see lab.sh). Node 20 built-ins only.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

/** Absolute path of lab.sh (next to this module). */
export const labScript: string = fileURLToPath(new URL('./lab.sh', import.meta.url));

/** The lab's state dir (env ND_LAB_DIR, default /tmp/ndlab). */
export function labDir(): string {
  return process.env.ND_LAB_DIR ?? '/tmp/ndlab';
}

export interface LabNode {
  name: string;
  ip: string;
  role: 'manager' | 'worker';
  /** Host-visible unix socket of the node's dockerd. */
  dockerSocket: string;
  sshPort: number;
  /** Host PID of the node's PID 1 (docker-init). */
  pid: number;
  /** Host path of the node's /var/log/docker.log. */
  dockerLog: string;
  /** The version its dockerd reports (26.1.5+dfsg1, 20.10.24+dfsg1). */
  engine: string;
}

/**
 * The lab's engine: every node on Docker 26 (the default), every node on
 * 20.10, or a mixed-version swarm (the manager on 26, workers on 20.10).
 */
export type LabEngine = '26' | '20.10' | 'mixed';

/** The engine `lab.sh up` builds with when none is given: ND_LAB_ENGINE, else 26. */
export function labDefaultEngine(): LabEngine {
  const e = process.env.ND_LAB_ENGINE;
  return e === '20.10' || e === 'mixed' ? e : '26';
}

/** An SSH-only node (`lab.sh ssh-nodes up N`): nsK, sshd and no dockerd. */
export interface LabSshNode {
  /** ns1, ns2, ... (also its hostname). */
  name: string;
  /** 10.213.0.(100+K). */
  ip: string;
  sshPort: number;
  /** Host PID of the node's PID 1 (docker-init). */
  pid: number;
}

/**
 * The standalone node (`lab.sh standalone up`): nd0, a real dockerd built
 * like a swarm node that is in no swarm (Swarm: inactive).
 */
export interface LabStandalone {
  /** nd0 (also its hostname). */
  name: string;
  /** 10.213.0.10. */
  ip: string;
  /** Host-visible unix socket of its dockerd. */
  dockerSocket: string;
  /** Host PID of the node's PID 1 (docker-init). */
  pid: number;
  /** Host path of the node's /var/log/docker.log. */
  dockerLog: string;
}

export interface LabState {
  dir: string;
  engine: LabEngine;
  bridge: string;
  subnet: string;
  gateway: string;
  /** Private key of the lab client (authorized on every node's sshd). */
  sshKey: string;
  /** known_hosts with every node's host key, for strict checking. */
  knownHosts: string;
  user: string;
  network: string;
  service: string;
  publishedPort: number;
  image: string;
  nodes: LabNode[];
  /** SSH-only nodes (empty unless `lab.sh ssh-nodes up N`); a rebuild of the lab removes them. */
  sshNodes: LabSshNode[];
  /** The standalone daemon, only while `lab.sh standalone up`; a rebuild of the lab removes it. */
  standalone?: LabStandalone;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface RunOptions {
  /** Written to the command's stdin (stdin is closed otherwise). */
  input?: string;
  /** Kill the command after this many ms (default: none). */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

const MAX_BUFFER = 64 * 1024 * 1024;

interface ExecFailure {
  code?: number | string | null;
  signal?: NodeJS.Signals | null;
  stdout?: string;
  stderr?: string;
  message?: string;
}

/** Run a program; resolves with its exit code instead of throwing on non-zero. */
export async function run(file: string, args: readonly string[], opts: RunOptions = {}): Promise<ExecResult> {
  const promise = execFileP(file, [...args], {
    encoding: 'utf8',
    maxBuffer: MAX_BUFFER,
    timeout: opts.timeoutMs ?? 0,
    env: opts.env ?? process.env,
  });
  // A command that exits before reading its stdin closes the pipe: the
  // EPIPE that follows is not an error of the command.
  promise.child.stdin?.on('error', () => {});
  promise.child.stdin?.end(opts.input ?? '');
  try {
    const { stdout, stderr } = await promise;
    return { stdout, stderr, code: 0 };
  } catch (err) {
    const e = err as ExecFailure;
    if (typeof e.code === 'number') {
      return { stdout: e.stdout ?? '', stderr: e.stderr ?? '', code: e.code };
    }
    if (e.signal) {
      return { stdout: e.stdout ?? '', stderr: `${e.stderr ?? ''}killed by ${e.signal}`, code: 128 };
    }
    throw err;
  }
}

async function lab(args: readonly string[], opts: RunOptions = {}): Promise<ExecResult> {
  return run('bash', [labScript, ...args], opts);
}

async function labOk(args: readonly string[], opts: RunOptions = {}): Promise<ExecResult> {
  const r = await lab(args, opts);
  if (r.code !== 0) {
    throw new Error(`lab.sh ${args.join(' ')} failed (exit ${r.code}):\n${r.stderr.trim()}`);
  }
  return r;
}

/**
 * Bring the lab up with n nodes (default ND_LAB_NODES or 3) on an engine
 * (default ND_LAB_ENGINE or 26); fast if already up that way.
 */
export async function labUp(n?: number, engine?: LabEngine): Promise<LabState> {
  const args = ['up', ...(n === undefined ? [] : [String(n)]), ...(engine === undefined ? [] : ['--engine', engine])];
  await labOk(args, { timeoutMs: 300_000 });
  return labState();
}

/** Tear the lab down completely. */
export async function labDown(): Promise<void> {
  await labOk(['down'], { timeoutMs: 120_000 });
}

/** Wait until the lab is healthy again (all nodes Ready, service converged). */
export async function labWait(seconds?: number): Promise<LabState> {
  await labOk(seconds === undefined ? ['wait'] : ['wait', String(seconds)], { timeoutMs: 300_000 });
  return labState();
}

/**
 * A healthy lab for the next tests: wait up to `waitSeconds` for it to
 * converge (e.g. after a fault was undone), else rebuild it from scratch.
 * Faults can leave a real swarm inconsistent for good (e.g. a task endpoint
 * missing from the overlay's gossip after restarts and a partition). A lab
 * on another engine than the default one (ND_LAB_ENGINE) is rebuilt too.
 */
export async function labEnsure(n?: number, waitSeconds = 30): Promise<LabState> {
  try {
    const state = await labWait(waitSeconds);
    if ((n === undefined || state.nodes.length === n) && state.engine === labDefaultEngine()) return state;
  } catch {
    // not healthy in time: rebuild below
  }
  return labUp(n);
}

/** True if the lab is up and healthy. */
export async function labHealthy(): Promise<boolean> {
  return (await lab(['status'])).code === 0;
}

/** The lab state written by `lab.sh up` ($ND_LAB_DIR/lab.json). */
export function labState(): LabState {
  const file = `${labDir()}/lab.json`;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new Error(`no lab state at ${file}: is the lab up? (bash ${labScript} up)`);
  }
  const state = JSON.parse(text) as Omit<LabState, 'sshNodes' | 'engine'> & { sshNodes?: LabSshNode[]; engine?: LabEngine };
  return { ...state, engine: state.engine ?? '20.10', sshNodes: state.sshNodes ?? [] };
}

/** A node of the lab by name (nd1, nd2, ...). */
export function labNode(name: string, state: LabState = labState()): LabNode {
  const node = state.nodes.find((n) => n.name === name);
  if (!node) throw new Error(`no lab node ${name} (have ${state.nodes.map((n) => n.name).join(', ')})`);
  return node;
}

/** An SSH-only node of the lab by name (ns1, ns2, ...). */
export function labSshNode(name: string, state: LabState = labState()): LabSshNode {
  const node = state.sshNodes.find((n) => n.name === name);
  if (!node) throw new Error(`no SSH-only lab node ${name} (have ${state.sshNodes.map((n) => n.name).join(', ') || 'none: lab.sh ssh-nodes up N'})`);
  return node;
}

/**
 * Exactly n SSH-only nodes ns1..nsN (10.213.0.101...) on the lab's bridge,
 * host keys in its known_hosts; fast for those already up. Needs the lab up.
 */
export async function sshNodesUp(n: number): Promise<LabSshNode[]> {
  await labOk(['ssh-nodes', 'up', String(n)], { timeoutMs: 300_000 });
  return labState().sshNodes;
}

/** Remove every SSH-only node (netns, veth, processes, known_hosts lines). */
export async function sshNodesDown(): Promise<void> {
  await labOk(['ssh-nodes', 'down'], { timeoutMs: 120_000 });
}

/**
 * The standalone node nd0 (10.213.0.10): its own namespaces and dockerd (the
 * swarm node recipe) that never joins the swarm; fast if already up. Needs
 * the lab up; not counted by labHealthy/labWait.
 */
export async function standaloneUp(): Promise<LabStandalone> {
  await labOk(['standalone', 'up'], { timeoutMs: 180_000 });
  const s = labState().standalone;
  if (!s) throw new Error(`lab.sh standalone up succeeded but ${labDir()}/lab.json has no "standalone"`);
  return s;
}

/** Remove the standalone node (netns, veth, processes, state dir, known_hosts line, lab.json entry). */
export async function standaloneDown(): Promise<void> {
  await labOk(['standalone', 'down'], { timeoutMs: 120_000 });
}

/** Run `sh -c CMD` inside a node's namespaces (net, mount, uts, pid); ndK or nsK. */
export async function nodeExec(node: string, cmd: string, opts: RunOptions = {}): Promise<ExecResult> {
  return lab(['exec', node, '--', 'sh', '-c', cmd], opts);
}

/** Run the docker CLI against a node's dockerd (host-visible socket). */
export async function nodeDocker(node: string, args: readonly string[], opts: RunOptions = {}): Promise<ExecResult> {
  const sock = labNode(node).dockerSocket;
  const env = { ...(opts.env ?? process.env) };
  delete env.DOCKER_HOST;
  delete env.DOCKER_CONTEXT;
  return run(process.env.ND_LAB_DOCKER ?? 'docker', ['--host', `unix://${sock}`, ...args], { ...opts, env });
}

/** Runs `fn` with `iptables -I RULE` in force on `node`, then deletes the rule whatever happened. */
export async function withIptablesRule(node: string, rule: string, fn: () => Promise<void>): Promise<void> {
  const add = await nodeExec(node, `iptables -I ${rule}`);
  if (add.code !== 0) throw new Error(`iptables -I ${rule} on ${node} failed (${add.code}): ${add.stderr}`);
  try {
    await fn();
  } finally {
    await nodeExec(node, `iptables -D ${rule}`);
  }
}

/** Waits (up to `seconds`) until at least `atLeast` tasks of `service` run, as the manager nd1 lists them; returns their nodes. */
export async function serviceRunning(service: string, atLeast: number, seconds = 60): Promise<string[]> {
  let nodes: string[] = [];
  for (let i = 0; i < seconds; i++) {
    const ps = await nodeDocker('nd1', ['service', 'ps', '--filter', 'desired-state=running', '--format', '{{.Node}} {{.CurrentState}}', service]);
    nodes = ps.stdout
      .split('\n')
      .filter((l) => l.includes('Running'))
      .map((l) => l.split(' ')[0]!);
    if (nodes.length >= atLeast) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  return nodes;
}

/**
 * An encrypted overlay `network` and a busybox `service` on it, one task on each of `replicas`
 * nodes, created from the manager nd1; waits until they run and returns their nodes.
 */
export async function encryptedServiceUp(network: string, service: string, replicas: number, seconds = 60): Promise<string[]> {
  const net = await nodeDocker('nd1', ['network', 'create', '-d', 'overlay', '--opt', 'encrypted', network]);
  if (net.code !== 0) throw new Error(`network create ${network}: ${net.stderr}`);
  const svc = await nodeDocker('nd1', [
    'service',
    'create',
    '--detach',
    '--quiet',
    '--name',
    service,
    '--replicas',
    String(replicas),
    '--replicas-max-per-node',
    '1',
    '--network',
    network,
    '--no-resolve-image',
    'ndlab/busybox:latest',
    'sleep',
    '86400',
  ]);
  if (svc.code !== 0) throw new Error(`service create ${service}: ${svc.stderr}`);
  return serviceRunning(service, replicas, seconds);
}

/** Removes `service`, then its `network` once the tasks have let go of it (up to `seconds`). */
export async function removeServiceAndNetwork(service: string, network: string, seconds = 30): Promise<void> {
  await nodeDocker('nd1', ['service', 'rm', service]);
  for (let i = 0; i < seconds; i++) {
    if ((await nodeDocker('nd1', ['network', 'rm', network])).code === 0) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** Arguments for `ssh` that log into a node (ndK or SSH-only nsK) with the lab key and strict host checking. */
export function sshArgs(node: string, state: LabState = labState()): string[] {
  const n = /^ns\d+$/.test(node) ? labSshNode(node, state) : labNode(node, state);
  return [
    '-i',
    state.sshKey,
    '-o',
    `UserKnownHostsFile=${state.knownHosts}`,
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'BatchMode=yes',
    '-o',
    'ConnectTimeout=5',
    '-p',
    String(n.sshPort),
    `${state.user}@${n.ip}`,
  ];
}

/** Run a command on a node over real SSH (its sshd, the lab key). */
export async function nodeSsh(node: string, cmd: string, opts: RunOptions = {}): Promise<ExecResult> {
  return run('ssh', [...sshArgs(node), cmd], opts);
}

export interface DockerdStartOptions {
  /** Start dockerd in its own mount namespace with slave propagation (MountFlags=slave). */
  slave?: boolean;
}

export async function dockerdStop(node: string): Promise<void> {
  await labOk(['dockerd-stop', node], { timeoutMs: 120_000 });
}

/** Start a node's dockerd and wait until it answers and is Ready in the swarm again. */
export async function dockerdStart(node: string, opts: DockerdStartOptions = {}): Promise<void> {
  await labOk(opts.slave ? ['dockerd-start', node, '--slave'] : ['dockerd-start', node], { timeoutMs: 180_000 });
}

export async function sshdStop(node: string): Promise<void> {
  await labOk(['sshd-stop', node], { timeoutMs: 60_000 });
}

export async function sshdStart(node: string): Promise<void> {
  await labOk(['sshd-start', node], { timeoutMs: 60_000 });
}

/** Take the host end of a node's veth down: the node is cut off from the bridge. */
export async function linkDown(node: string): Promise<void> {
  await labOk(['link-down', node]);
}

export async function linkUp(node: string): Promise<void> {
  await labOk(['link-up', node]);
}
