/**
 * Placement constraints as swarm evaluates them (`key==value`, `key!=value`;
 * node.id, node.hostname, node.ip, node.role, node.platform.os/arch,
 * node.labels.*, engine.labels.*; values compared case-insensitively, label
 * names case-sensitively; an unknown key matches no node), resolved against
 * the nodes the manager reports.
 */
import { cidrContainsIp, parseCidr, parseIp } from '../net/ip.js';

export interface PlacementNode {
  id: string;
  hostname: string;
  role: string;
  addr: string | null;
  os: string;
  arch: string;
  nodeLabels: Record<string, string>;
  engineLabels: Record<string, string>;
  ready: boolean;
  active: boolean;
}

export interface Constraint {
  key: string;
  op: '==' | '!=';
  value: string;
  text: string;
}

const KEY = /^[a-z_][a-z0-9\-_.]+$/i;
const VALUE = /^[a-z0-9:\-_\s.*()?+[\]\\^$|/]+$/i;

/** One constraint, or why it is not one (swarm rejects the service then). As swarmkit: `==` wins when both appear. */
export function parseConstraint(text: string): Constraint | { error: string } {
  const op = text.includes('==') ? '==' : text.includes('!=') ? '!=' : null;
  if (op === null) return { error: `constraint "${text}" has no == or !=` };
  const i = text.indexOf(op);
  const key = text.slice(0, i).trim();
  const value = text.slice(i + 2).trim();
  if (!KEY.test(key)) return { error: `constraint "${text}": key '${key}' is invalid` };
  if (!VALUE.test(value)) return { error: `constraint "${text}": value '${value}' is invalid` };
  return { key, op, value, text };
}

const eq = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();
const label = (labels: Record<string, string>, name: string): string => (Object.hasOwn(labels, name) ? labels[name]! : '');

function holds(c: Constraint, n: PlacementNode): boolean {
  const k = c.key.toLowerCase();
  let value: string;
  if (k === 'node.ip') {
    // A single address or a prefix; a malformed one matches no node.
    const ip = parseIp(c.value);
    const mine = n.addr === null ? null : parseIp(n.addr);
    let inside: boolean;
    if (ip) inside = mine !== null && mine.family === ip.family && mine.value === ip.value;
    else if (parseCidr(c.value)) inside = n.addr !== null && cidrContainsIp(c.value, n.addr) === true;
    else return false;
    return c.op === '==' ? inside : !inside;
  }
  if (k === 'node.id') value = n.id;
  else if (k === 'node.hostname') value = n.hostname;
  else if (k === 'node.role') value = n.role;
  else if (k === 'node.platform.os') value = n.os;
  else if (k === 'node.platform.arch') value = n.arch;
  else if (k.startsWith('node.labels.') && c.key.length > 'node.labels.'.length) value = label(n.nodeLabels, c.key.slice('node.labels.'.length));
  else if (k.startsWith('engine.labels.') && c.key.length > 'engine.labels.'.length)
    value = label(n.engineLabels, c.key.slice('engine.labels.'.length));
  else return false;
  return c.op === '==' ? eq(c.value, value) : !eq(c.value, value);
}

export const nodeMatches = (cs: readonly Constraint[], n: PlacementNode): boolean => cs.every((c) => holds(c, n));

type J = Record<string, unknown>;
const obj = (v: unknown): J => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as J) : {});
const strs = (v: unknown): Record<string, string> =>
  Object.fromEntries(Object.entries(obj(v)).filter(([, x]) => typeof x === 'string')) as Record<string, string>;
const s = (v: unknown): string => (typeof v === 'string' ? v : '');

/** The placement view of the manager's node list (Engine API JSON). */
export function placementNodes(engineNodes: unknown): PlacementNode[] {
  return (Array.isArray(engineNodes) ? engineNodes : []).map((raw) => {
    const n = obj(raw);
    const spec = obj(n.Spec);
    const desc = obj(n.Description);
    const status = obj(n.Status);
    const platform = obj(desc.Platform);
    return {
      id: s(n.ID),
      hostname: s(desc.Hostname),
      role: s(spec.Role),
      addr: s(status.Addr) || null,
      os: s(platform.OS),
      arch: s(platform.Architecture),
      nodeLabels: strs(spec.Labels),
      engineLabels: strs(obj(desc.Engine).Labels),
      ready: s(status.State) === 'ready',
      active: s(spec.Availability) === 'active',
    };
  });
}
