/**
 * Conntrack entries in the two forms nodes print them: /proc/net/nf_conntrack
 * (recorded from the lab's Docker 26 and 20.10 nodes: a client on nd2/nd3
 * sending to a host-mode published 5514/udp) and `conntrack -L` (conntrack-tools
 * 1.4.7, recorded in the same lab).
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

  it('reads conntrack -L lines (no family columns) and [ASSURED] tcp entries', () => {
    const e = parseConntrackLine(
      'tcp      6 431999 ESTABLISHED src=10.213.0.13 dst=10.213.0.11 sport=40312 dport=8080 src=10.213.0.11 dst=10.213.0.13 sport=8080 dport=40312 [ASSURED] mark=0 use=1',
    )!;
    expect(e.family).toBeNull();
    expect(e.protocol).toBe('tcp');
    expect(e.timeout).toBe(431999);
    expect(e.orig.dport).toBe(8080);
    expect(e.assured).toBe(true);
    expect(e.unreplied).toBe(false);
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
