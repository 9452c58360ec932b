/**
 * Running our executable against the lab the way an operator would: the
 * manager's socket as DOCKER_HOST, the lab key and the lab's known_hosts.
 */
import { readFileSync } from 'node:fs';
import { labState, type LabState } from '../../lab/lab.js';
import type { Report } from '../../../src/report/model.js';
import type { ClusterSnapshot } from '../../../src/snapshot/types.js';
import { BIN, run, type RunResult } from './cli.js';

export const managerHost = (lab: LabState = labState()): string => `unix://${lab.nodes.find((n) => n.role === 'manager')!.dockerSocket}`;

/** `docker-netdoctor -H <manager> <args> -i <lab key> --known-hosts <lab known_hosts>`. */
export function nd(args: string[], opts: { env?: NodeJS.ProcessEnv; ssh?: boolean; timeoutMs?: number } = {}): Promise<RunResult> {
  const lab = labState();
  const ssh = opts.ssh === false ? [] : ['--identity', lab.sshKey, '--known-hosts', lab.knownHosts, '--ssh-config', 'none'];
  return run(
    BIN,
    ['-H', managerHost(lab), ...args, ...ssh],
    { DOCKER_HOST: '', DOCKER_CONTEXT: '', SSH_AUTH_SOCK: '', ...opts.env },
    opts.timeoutMs ?? 180_000,
  );
}

export async function collect(args: string[] = [], opts: Parameters<typeof nd>[1] = {}): Promise<{ r: RunResult; snap: ClusterSnapshot }> {
  const r = await nd(['collect', ...args], opts);
  if (r.code !== 0) throw new Error(`collect exited ${r.code}: ${r.stderr}`);
  return { r, snap: JSON.parse(r.stdout) as ClusterSnapshot };
}

export async function check(args: string[] = [], opts: Parameters<typeof nd>[1] = {}): Promise<{ r: RunResult; report: Report }> {
  const r = await nd(['check', '--format', 'json', ...args], opts);
  if (r.code !== 0 && r.code !== 1) throw new Error(`check exited ${r.code}: ${r.stderr}`);
  return { r, report: JSON.parse(r.stdout) as Report };
}

export const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, 'utf8')) as T;
