/**
 * `docker stack config` output (YAML, already merged and interpolated) →
 * the Stack netdoctor checks. Defensive: the text is the docker CLI's, the
 * values the user's; anything of the wrong shape is a one-line input error.
 */
import { parse } from 'yaml';
import { usageError } from '../errors.js';
import type { Stack, StackFile, StackNetwork, StackPort, StackService } from './types.js';

type J = Record<string, unknown>;
const isObj = (v: unknown): v is J => typeof v === 'object' && v !== null && !Array.isArray(v);
const entries = (v: unknown): [string, unknown][] => (isObj(v) ? Object.entries(v) : []);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : null);

function port(p: unknown, where: string): StackPort {
  if (!isObj(p)) throw usageError(`${where}: a port is not in long form (docker stack config gave ${JSON.stringify(p)})`);
  const target = Number(p.target);
  const published = p.published === undefined || p.published === null || p.published === '' ? null : Number(p.published);
  if (!Number.isInteger(target) || (published !== null && !Number.isInteger(published)))
    throw usageError(`${where}: port ${JSON.stringify(p)} is not a number`);
  const protocol = (str(p.protocol) ?? 'tcp') as StackPort['protocol'];
  return { target, published, protocol, mode: str(p.mode) === 'host' ? 'host' : 'ingress' };
}

function service(stack: string, key: string, s: unknown): StackService {
  const v = isObj(s) ? s : {};
  const deploy = isObj(v.deploy) ? v.deploy : {};
  const placement = isObj(deploy.placement) ? deploy.placement : {};
  const where = `services.${key}`;
  const networks = Array.isArray(v.networks) ? v.networks.map(String) : entries(v.networks).map(([k]) => k);
  const replicas = deploy.replicas === undefined ? 1 : Number(deploy.replicas);
  if (!Number.isInteger(replicas) || replicas < 0) throw usageError(`${where}.deploy.replicas: ${JSON.stringify(deploy.replicas)} is not a number`);
  const max = placement.max_replicas_per_node === undefined ? null : Number(placement.max_replicas_per_node);
  return {
    key,
    name: `${stack}_${key}`,
    mode: str(deploy.mode) === 'global' ? 'global' : 'replicated',
    replicas,
    endpointMode: str(deploy.endpoint_mode) === 'dnsrr' ? 'dnsrr' : 'vip',
    ports: (Array.isArray(v.ports) ? v.ports : []).map((p) => port(p, `${where}.ports`)),
    // Without networks, stack deploy attaches the service to the stack's default network.
    networks: networks.length > 0 ? networks : ['default'],
    constraints: (Array.isArray(placement.constraints) ? placement.constraints : []).map(String),
    maxReplicasPerNode: max !== null && Number.isInteger(max) && max > 0 ? max : null,
  };
}

function network(stack: string, key: string, n: unknown): StackNetwork {
  const v = isObj(n) ? n : {};
  const ext = v.external;
  const external = ext === true || isObj(ext);
  const extName = isObj(ext) ? str(ext.name) : null;
  const driverOpts = Object.fromEntries(entries(v.driver_opts).map(([k, x]) => [k, str(x) ?? '']));
  const ipam = isObj(v.ipam) ? v.ipam : {};
  const subnets = (Array.isArray(ipam.config) ? ipam.config : [])
    .map((c) => (isObj(c) ? str(c.subnet) : null))
    .filter((x): x is string => x !== null);
  const mtu = driverOpts['com.docker.network.driver.mtu'];
  return {
    key,
    name: extName ?? str(v.name) ?? (external ? key : `${stack}_${key}`),
    external,
    driver: str(v.driver) ?? 'overlay',
    driverOpts,
    attachable: v.attachable === true,
    subnets,
    encrypted: Object.hasOwn(driverOpts, 'encrypted'),
    mtu: mtu !== undefined && /^\d+$/.test(mtu) ? Number(mtu) : null,
  };
}

export function normaliseStack(text: string, stackName: string, files: StackFile[]): Stack {
  let doc: unknown;
  try {
    doc = parse(text, { maxAliasCount: 100 });
  } catch (err) {
    throw usageError(`docker stack config printed YAML netdoctor cannot read: ${(err as Error).message.split('\n')[0]}`);
  }
  if (!isObj(doc)) throw usageError('docker stack config printed no stack');
  const networks = entries(doc.networks).map(([k, n]) => network(stackName, k, n));
  const services = entries(doc.services).map(([k, s]) => service(stackName, k, s));
  // The implicit default network, as stack deploy creates it when a service joins no network.
  if (services.some((s) => s.networks.includes('default')) && !networks.some((n) => n.key === 'default')) {
    networks.push(network(stackName, 'default', {}));
  }
  return { name: stackName, files, services, networks };
}

/** A stack name as docker accepts it (the first file's folder, like compose, when --stack is not given). */
export function defaultStackName(firstFile: string): string {
  const dir = firstFile === '-' ? process.cwd() : firstFile.replace(/\/[^/]*$/, '') || '.';
  const base = (dir === '.' ? process.cwd() : dir).split('/').filter(Boolean).pop() ?? 'stack';
  return base.toLowerCase().replace(/[^a-z0-9_-]/g, '') || 'stack';
}
