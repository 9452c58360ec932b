/**
 * Reader for `ip xfrm state` (keys already redacted on the node):
 *
 *   src 10.213.0.11 dst 10.213.0.12
 *   	proto esp spi 0x0000c0de reqid 0 mode transport
 *   	replay-window 0
 *   	aead rfc4106(gcm(aes)) <redacted> 64
 *   	sel src 0.0.0.0/0 dst 0.0.0.0/0
 *
 * Only what the encryption check needs: one entry per SA with its endpoints,
 * protocol, SPI and mode. Linear time: lines are split into words (no
 * backtracking pattern), and a line longer than MAX_XFRM_LINE (no real
 * xfrm line comes close) is skipped unread.
 */

export interface XfrmState {
  src: string;
  dst: string;
  proto: string | null;
  spi: string | null;
  /** Docker's SAs carry reqid 13681891 (0xD0C4E3, libnetwork's `mark`). */
  reqid: string | null;
  mode: string | null;
}

/** libnetwork's mark on its SAs (reqid) and security policies (mark value): 0xD0C4E3. */
export const DOCKER_XFRM_MARK = 0xd0c4e3;

/** Longest line read; iproute2 prints well under 300 characters per line. */
export const MAX_XFRM_LINE = 4096;

const words = (line: string): string[] => line.split(/[ \t\f\v\r]+/).filter((w) => w !== '');

/**
 * The entries of an `ip xfrm` listing: a line starting `src A dst B` opens one
 * (`open` builds it from the line's words), indented lines belong to the last
 * one (`more`). Overlong lines are skipped unread.
 */
function entries<T>(text: string, open: (w: string[]) => T, more: (cur: T, w: string[]) => void): T[] {
  const out: T[] = [];
  let cur: T | null = null;
  for (const line of (text ?? '').split('\n')) {
    if (line.length > MAX_XFRM_LINE) continue;
    const indented = line.startsWith(' ') || line.startsWith('\t');
    const w = words(line);
    if (!indented && w[0] === 'src' && w[2] === 'dst' && w[1] !== undefined && w[3] !== undefined) {
      cur = open(w);
      out.push(cur);
    } else if (cur !== null && indented) more(cur, w);
  }
  return out;
}

export function parseXfrmState(text: string): XfrmState[] {
  return entries<XfrmState>(
    text,
    (w) => ({ src: w[1]!, dst: w[3]!, proto: null, spi: null, reqid: null, mode: null }),
    (cur, w) => {
      if (w[0] !== 'proto' || w[1] === undefined || cur.proto !== null) return;
      cur.proto = w[1].toLowerCase();
      cur.spi = w[2] === 'spi' ? (w[3] ?? null) : null;
      cur.reqid = after(w, 'reqid');
      cur.mode = after(w, 'mode');
    },
  );
}

/** The word after `key` (from the third word on), or null. */
function after(w: string[], key: string): string | null {
  const i = w.indexOf(key, 2);
  return i > 0 && w[i + 1] !== undefined ? w[i + 1]! : null;
}

export interface XfrmTmpl {
  src: string;
  dst: string;
  proto: string | null;
  spi: string | null;
  reqid: string | null;
  mode: string | null;
}

/**
 * One `ip xfrm policy` entry, as iproute2 prints it (recorded from iproute2 6.1
 * with the policy libnetwork programs for an encrypted overlay):
 *
 *   src 10.213.0.11/32 dst 10.213.0.12/32 proto udp dport 4789
 *   	dir out priority 0 ptype main
 *   	mark 0xd0c4e3/0xffffffff
 *   	tmpl src 10.213.0.11 dst 10.213.0.12
 *   		proto esp spi 0x5f3c2a1b reqid 13681891 mode transport
 */
export interface XfrmPolicy {
  src: string;
  dst: string;
  /** Selector protocol (`udp`), or null for any. */
  proto: string | null;
  dport: number | null;
  dir: string | null;
  /** The mark value (`0xd0c4e3`), or null when the policy has none. */
  mark: number | null;
  tmpls: XfrmTmpl[];
}

export function parseXfrmPolicy(text: string): XfrmPolicy[] {
  return entries<XfrmPolicy>(
    text,
    (w) => {
      const port = after(w, 'dport');
      const dport = port !== null && /^\d{1,5}$/.test(port) && Number(port) <= 65535 ? Number(port) : null;
      return { src: w[1]!, dst: w[3]!, proto: after(w, 'proto'), dport, dir: null, mark: null, tmpls: [] };
    },
    policyLine,
  );
}

/** An indented line of a policy: dir, mark, tmpl and the template's proto line. */
function policyLine(cur: XfrmPolicy, w: string[]): void {
  if (w[0] === 'dir') cur.dir = w[1] ?? null;
  else if (w[0] === 'mark') {
    const v = (w[1] ?? '').split('/')[0]!;
    cur.mark = /^0x[0-9a-f]{1,8}$/i.test(v) ? Number.parseInt(v, 16) : /^\d{1,10}$/.test(v) ? Number(v) : null;
  } else if (w[0] === 'tmpl' && w[1] === 'src' && w[3] === 'dst' && w[2] !== undefined && w[4] !== undefined)
    cur.tmpls.push({ src: w[2], dst: w[4], proto: null, spi: null, reqid: null, mode: null });
  else if (w[0] === 'proto' && cur.tmpls.length > 0) {
    const t = cur.tmpls[cur.tmpls.length - 1]!;
    if (t.proto !== null) return;
    t.proto = (w[1] ?? '').toLowerCase() || null;
    t.spi = w[2] === 'spi' ? (w[3] ?? null) : null;
    t.reqid = after(w, 'reqid');
    t.mode = after(w, 'mode');
  }
}
