/**
 * Conntrack entries in the two forms nodes print them, all recorded in the
 * lab (test/fixtures/host/conntrack/README.md): /proc/net/nf_conntrack of
 * Docker 26 and 20.10 nodes with a client sending to a host-mode published
 * 5514/udp, and `conntrack -L -p udp` (conntrack-tools 1.4.7) of the same node
 * at the same moment. The IPv6 line is the same entry in the kernel's IPv6 form.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { natted, parseConntrack, parseConntrackLine } from '../../../src/parse/conntrack.js';

const fixture = (name: string): string => readFileSync(new URL(`../../fixtures/host/conntrack/${name}`, import.meta.url), 'utf8');

describe('parseConntrackLine', () => {
  it('reads a /proc/net/nf_conntrack UDP entry that was not NATed (sent before the service existed)', () => {
    const e = parseConntrackLine(fixture('nd1-before-service.txt').trim())!;
    expect(e).toEqual({
      family: 'ipv4',
      protocol: 'udp',
      timeout: 29,
      orig: { src: '10.213.0.12', dst: '10.213.0.11', sport: 58448, dport: 5514 },
      reply: { src: '10.213.0.11', dst: '10.213.0.12', sport: 5514, dport: 58448 },
      unreplied: true,
      assured: false,
    });
    expect(natted(e)).toBe(false);
  });

  it('reads the same flow once docker DNATs it to the task (Docker 26 flushed the old entry itself)', () => {
    const e = parseConntrackLine(fixture('nd1-after-service-docker26.txt').trim())!;
    expect(e.reply).toEqual({ src: '172.17.0.2', dst: '10.213.0.12', sport: 514, dport: 58448 });
    expect(natted(e)).toBe(true);
  });

  it('reads conntrack -L lines (no family columns), recorded on the same node at the same moment', () => {
    const proc = parseConntrack(fixture('lab-table.txt')).entries.filter((e) => e.protocol === 'udp');
    const tool = parseConntrack(fixture('lab-conntrack-L.txt'));
    expect(tool.warnings).toEqual([]);
    expect(tool.entries.every((e) => e.family === null && e.protocol === 'udp')).toBe(true);
    const key = (e: (typeof proc)[number]) => `${e.orig.src}:${e.orig.sport}>${e.orig.dst}:${e.orig.dport} ${e.reply?.src}:${e.reply?.sport}`;
    expect(tool.entries.map(key).sort()).toEqual(proc.map(key).sort());
    const gossip = tool.entries.find((e) => e.orig.dport === 7946)!;
    expect(gossip).toMatchObject({ timeout: 119, assured: true, unreplied: false });
  });

  it('reads every line of a whole recorded table: udp, tcp states and protocols without ports (IGMP)', () => {
    const r = parseConntrack(fixture('lab-table.txt'));
    expect(r.warnings).toEqual([]);
    expect(r.entries).toHaveLength(23);
    const tcp = r.entries.find((e) => e.protocol === 'tcp' && e.orig.dport === 2377)!;
    expect(tcp).toMatchObject({ timeout: 431999, assured: true, orig: { src: '10.213.0.12', dst: '10.213.0.11', sport: 36442, dport: 2377 } });
    const igmp = r.entries.find((e) => e.protocol === 'unknown')!;
    expect(igmp.orig).toEqual({ src: '172.17.0.1', dst: '224.0.0.22', sport: null, dport: null });
    const stale = r.entries.filter((e) => e.protocol === 'udp' && e.orig.dport === 5514);
    expect(stale.map((e) => [e.orig.src, natted(e)])).toEqual([
      ['10.213.0.13', false],
      ['10.213.0.11', true],
    ]);
  });

  it('reads IPv6 entries', () => {
    const e = parseConntrackLine(
      'ipv6     10 udp      17 25 src=fd00::12 dst=fd00::11 sport=41000 dport=5514 [UNREPLIED] src=fd00::11 dst=fd00::12 sport=5514 dport=41000 mark=0 zone=0 use=2',
    )!;
    expect(e.family).toBe('ipv6');
    expect(e.orig.src).toBe('fd00::12');
    expect(natted(e)).toBe(false);
  });

  it('refuses lines that are not entries', () => {
    expect(parseConntrackLine('conntrack v1.4.7 (conntrack-tools): 3 flow entries have been shown.')).toBeNull();
    expect(parseConntrackLine('')).toBeNull();
    expect(parseConntrackLine('ipv4 2 udp 17 29 sport=1 dport=2')).toBeNull();
  });
});

describe('parseConntrack', () => {
  it('is bounded in entries and line length, and says what it did not read', () => {
    const line = fixture('nd1-before-service.txt').trim();
    const text = [...Array(12).fill(line), 'x'.repeat(5000), 'garbage'].join('\n');
    const r = parseConntrack(text, { lines: 10, lineChars: 1024 });
    expect(r.entries).toHaveLength(10);
    expect(r.warnings.at(-1)).toBe('4 more line(s) past the first 10 not read');
  });

  it('reads nothing from hostile input (a 2 MB line of = signs and brackets)', () => {
    const r = parseConntrack(`${'src==['.repeat(350_000)}\n`, { lines: 10, lineChars: 4 * 2 ** 20 });
    expect(r.entries).toHaveLength(0);
    expect(r.warnings).toHaveLength(1);
  });
});
