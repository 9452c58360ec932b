/**
 * Minimal reader for `ip xfrm state` (keys already redacted on the node):
 *
 *   src 10.213.0.11 dst 10.213.0.12
 *   	proto esp spi 0x0000c0de reqid 0 mode transport
 *   	replay-window 0
 *   	aead rfc4106(gcm(aes)) <redacted> 64
 *   	sel src 0.0.0.0/0 dst 0.0.0.0/0
 *
 * Only what the encryption check needs: one entry per SA with its endpoints,
 * protocol, SPI and mode.
 */

export interface XfrmState {
  src: string;
  dst: string;
  proto: string | null;
  spi: string | null;
  mode: string | null;
}

export function parseXfrmState(text: string): XfrmState[] {
  const out: XfrmState[] = [];
  let cur: XfrmState | null = null;
  for (const raw of (text ?? '').split(/\r?\n/)) {
    const head = /^src\s+(\S+)\s+dst\s+(\S+)/.exec(raw);
    if (head) {
      cur = { src: head[1]!, dst: head[2]!, proto: null, spi: null, mode: null };
      out.push(cur);
      continue;
    }
    if (!cur) continue;
    const p = /^\s+proto\s+(\S+)(?:\s+spi\s+(\S+))?.*?(?:\smode\s+(\S+))?\s*$/.exec(raw);
    if (p && cur.proto === null) {
      cur.proto = p[1]!.toLowerCase();
      cur.spi = p[2] ?? null;
      cur.mode = p[3] ?? null;
    }
  }
  return out;
}
