/**
 * Docker's network sandboxes under <exec-root>/netns, classified as libnetwork
 * names them: `1-<first 10 of network id>` overlay sandboxes (br0 + vxlan0),
 * `lb_<first 9 of network id>` load-balancer sandboxes, `ingress_sbox`, and
 * 12-hex container sandboxes.
 */
import type { RawSection } from '../collect/sections.js';
import { parseAddresses, parseFdb, parseLinks, parseNeigh } from '../parse/iproute.js';
import type { NetworkFacts, SandboxKind, SandboxSnapshot } from './types.js';

export function classifySandbox(name: string): { kind: SandboxKind; networkIdPrefix: string | null } {
  if (name === 'ingress_sbox') return { kind: 'ingress', networkIdPrefix: null };
  let m = /^\d+-([0-9a-z]+)$/.exec(name);
  if (m) return { kind: 'overlay', networkIdPrefix: m[1]! };
  m = /^lb_([0-9a-z]+)$/.exec(name);
  if (m) return { kind: 'lb', networkIdPrefix: m[1]! };
  if (/^[0-9a-f]{12}$/.test(name)) return { kind: 'container', networkIdPrefix: null };
  return { kind: 'other', networkIdPrefix: null };
}

export function sandboxNames(raw: Record<string, RawSection>): string[] {
  const list = raw['netns/list'];
  if (!list || list.rc !== 0) return [];
  return list.stdout
    .split('\n')
    .map((s) => s.trim())
    .filter(Boolean);
}

export function buildSandboxes(raw: Record<string, RawSection>, networks: NetworkFacts[]): SandboxSnapshot[] {
  const ingress = networks.find((n) => n.ingress);
  return sandboxNames(raw).map((name): SandboxSnapshot => {
    const { kind, networkIdPrefix } = classifySandbox(name);
    const net = networkIdPrefix !== null ? networks.find((n) => n.id.startsWith(networkIdPrefix)) : kind === 'ingress' ? ingress : undefined;
    const sec = (what: string) => raw[`netns/${name}/${what}`];
    const good = (what: string) => (sec(what)?.rc === 0 ? sec(what)!.stdout : '');
    const enter = sec('enter');
    return {
      name,
      kind,
      networkIdPrefix,
      networkId: net?.id ?? null,
      networkName: net?.name ?? null,
      enterError: enter ? enter.stderr.trim().split('\n')[0] || `cannot enter (exit ${enter.rc})` : null,
      links: parseLinks(good('link')).items,
      addresses: parseAddresses(good('addr')).items,
      fdb: parseFdb(good('fdb')).items,
      neighbours: parseNeigh(good('neigh')).items,
    };
  });
}
