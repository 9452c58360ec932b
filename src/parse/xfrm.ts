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
  mode: string | null;
}

/** Longest line read; iproute2 prints well under 300 characters per line. */
export const MAX_XFRM_LINE = 4096;

const words = (line: string): string[] => line.split(/[ \t\f\v\r]+/).filter((w) => w !== '');

export function parseXfrmState(text: string): XfrmState[] {
  const out: XfrmState[] = [];
  let cur: XfrmState | null = null;
  for (const line of (text ?? '').split('\n')) {
    if (line.length > MAX_XFRM_LINE) continue;
    const indented = line.startsWith(' ') || line.startsWith('\t');
    const w = words(line);
    if (!indented && w[0] === 'src' && w[2] === 'dst' && w[1] !== undefined && w[3] !== undefined) {
      cur = { src: w[1], dst: w[3], proto: null, spi: null, mode: null };
      out.push(cur);
      continue;
    }
    if (!cur || !indented || w[0] !== 'proto' || w[1] === undefined || cur.proto !== null) continue;
    cur.proto = w[1].toLowerCase();
    cur.spi = w[2] === 'spi' ? (w[3] ?? null) : null;
    const m = w.indexOf('mode', 2);
    cur.mode = m > 0 && w[m + 1] !== undefined ? w[m + 1]! : null;
  }
  return out;
}
