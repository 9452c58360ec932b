/**
 * A last safety net before anything is written into a bundle: the secret
 * shapes netdoctor must never carry are cut from every file, whatever
 * section they slipped into. Collection already keeps them out (keys are cut
 * on the node, join tokens dropped, env values redacted); this only counts
 * and removes what would have leaked, and the run log says so.
 *
 * The same shapes as the node-side REDACT_LOG (collect/script.ts), plus PEM
 * private keys.
 */

const RULES: { name: string; re: RegExp; to: string }[] = [
  { name: 'hex key', re: /0x[0-9a-fA-F]{16,}/g, to: '<redacted>' },
  { name: 'byte-list key', re: /\[[0-9]{1,3}(?: [0-9]{1,3}){15,}\]/g, to: '[<redacted>]' },
  { name: 'swarm token or unlock key', re: /SWM(TKN|KEY)-[0-9A-Za-z+=-]+/g, to: 'SWM$1-<redacted>' },
  { name: 'URL credentials', re: /(:\/\/)[^/@\s"'\\]+:[^/@\s"'\\]*@/g, to: '$1<redacted>@' },
  { name: 'private key', re: /-----BEGIN ([A-Z ]*)PRIVATE KEY-----[\s\S]*?-----END \1PRIVATE KEY-----/g, to: '<redacted private key>' },
];

export interface ScrubResult {
  text: string;
  /** Hits by rule name. */
  hits: Record<string, number>;
}

export function scrubText(text: string, hits: Record<string, number> = {}): ScrubResult {
  let out = text;
  for (const r of RULES) {
    out = out.replace(r.re, (...m: unknown[]) => {
      hits[r.name] = (hits[r.name] ?? 0) + 1;
      return r.to.replace('$1', String(m[1] ?? ''));
    });
  }
  return { text: out, hits };
}

/** Every string of a JSON value, scrubbed. */
export function scrubJson<T>(value: T, hits: Record<string, number> = {}): { value: T; hits: Record<string, number> } {
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return scrubText(v, hits).text;
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return { value: walk(value) as T, hits };
}
