/**
 * Values from the cluster, a node or a bundle (hostnames, network and
 * service names, sandbox names, addresses) are untrusted: every one that goes
 * into a command a user may paste passes through `shq`, so it is one word
 * for a POSIX shell whatever it holds.
 */
const SAFE = /^[A-Za-z0-9_./:=@%+,-]+$/;

/** POSIX shell quoting, only when needed: `nd1` stays `nd1`, `a b` becomes `'a b'`, `it's` becomes `'it'\''s'`. */
export function shq(value: string | number): string {
  const s = String(value);
  if (s !== '' && SAFE.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
