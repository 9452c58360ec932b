import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { activeRealServers, findFwmarkService, fwmarkOf, parseIpvsadm, splitAddrPort, type IpvsService } from '../../../src/parse/ipvs.js';

const fixture = (name: string): string => readFileSync(new URL(`../../fixtures/ipvs/${name}`, import.meta.url), 'utf8');

const FIXTURES = ['ingress-sbox.txt', 'lb-sandbox.txt', 'mixed.txt', 'empty.txt', 'unavailable.txt'] as const;

const HEADER = [
  'IP Virtual Server version 1.2.1 (size=4096)',
  'Prot LocalAddress:Port Scheduler Flags',
  '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
].join('\n');

/** Compact view of a service for table-driven expectations. */
const brief = (s: IpvsService) => ({
  id: s.protocol === 'FWM' ? `FWM ${s.fwmark}` : `${s.protocol} ${s.family === 'inet6' ? `[${s.address}]` : s.address}:${s.port}`,
  scheduler: s.scheduler,
  flags: s.flags,
  real: s.realServers.map(
    (r) => `${r.address.includes(':') ? `[${r.address}]` : r.address}:${r.port} ${r.forward} w${r.weight} a${r.activeConn} i${r.inactConn}`,
  ),
});

describe('parseIpvsadm: fixtures', () => {
  it.each(FIXTURES)('%s parses without warnings', (name) => {
    expect(parseIpvsadm(fixture(name)).warnings).toEqual([]);
  });

  it('ingress_sbox: Docker fwmark services, rr, Masq, weight 1 (0 while draining)', () => {
    const t = parseIpvsadm(fixture('ingress-sbox.txt'));
    expect(t).toMatchObject({ available: true, version: '1.2.1', tableSize: 4096 });
    expect(t.services.map(brief)).toEqual([
      { id: 'FWM 256', scheduler: 'rr', flags: [], real: ['10.0.0.5:0 Masq w1 a0 i0', '10.0.0.6:0 Masq w1 a0 i0'] },
      { id: 'FWM 258', scheduler: 'rr', flags: [], real: ['10.0.0.10:0 Masq w1 a0 i3', '10.0.0.11:0 Masq w0 a0 i1'] },
    ]);
    for (const s of t.services) {
      expect(s.protocol).toBe('FWM');
      expect(s.address).toBeUndefined();
      expect(s.port).toBeUndefined();
      expect(s.family).toBe('inet');
    }
    expect(activeRealServers(findFwmarkService(t, 258)!).map((r) => r.address)).toEqual(['10.0.0.10']);
    expect(findFwmarkService(t, 999)).toBeUndefined();
  });

  it('lb sandbox: a service with no real servers, and DSR (Route) backends', () => {
    const t = parseIpvsadm(fixture('lb-sandbox.txt'));
    expect(t.services.map(brief)).toEqual([
      { id: 'FWM 257', scheduler: 'rr', flags: [], real: ['10.0.1.3:0 Masq w1 a0 i0', '10.0.1.8:0 Masq w1 a2 i0', '10.0.1.9:0 Masq w1 a0 i0'] },
      { id: 'FWM 259', scheduler: 'rr', flags: [], real: [] },
      { id: 'FWM 260', scheduler: 'rr', flags: [], real: ['10.0.1.12:0 Route w1 a0 i0', '10.0.1.13:0 Route w1 a0 i0'] },
    ]);
  });

  it('mixed: TCP/UDP, persistence, masks, scheduler flags, IPv6, Tunnel/Route/Local', () => {
    const t = parseIpvsadm(fixture('mixed.txt'));
    expect(t.services.map(brief)).toEqual([
      { id: 'TCP 10.0.1.2:80', scheduler: 'rr', flags: [], real: ['10.0.1.3:80 Masq w1 a0 i0'] },
      {
        id: 'TCP 192.168.50.10:443',
        scheduler: 'wlc',
        flags: ['persistent 360', 'mask 255.255.255.0'],
        real: ['192.168.50.21:443 Tunnel w3 a12 i40', '192.168.50.22:443 Route w2 a7 i33'],
      },
      { id: 'UDP 192.168.50.10:53', scheduler: 'sh', flags: ['sh-fallback', 'sh-port'], real: ['127.0.0.1:53 Local w1 a0 i0'] },
      {
        id: 'UDP [2001:db8::1]:53',
        scheduler: 'rr',
        flags: [],
        real: ['[2001:db8::53]:53 Masq w1 a0 i5', '[2001:db8:0:1234:5678:9abc:def0:1]:53 Route w1 a0 i0'],
      },
      { id: 'FWM 257', scheduler: 'rr', flags: ['persistent 360'], real: ['10.0.0.7:0 Masq w1 a0 i0'] },
      { id: 'FWM 300', scheduler: 'wlc', flags: ['ops'], real: ['[2001:db8::7]:0 Masq w1 a0 i0'] },
    ]);
    expect(t.services[1]!.persistent).toBe(360);
    expect(t.services[4]!.persistent).toBe(360);
    expect(t.services[0]!.persistent).toBeUndefined();
    expect(t.services[3]!.family).toBe('inet6');
    expect(t.services[5]!.family).toBe('inet6');
  });

  it('empty table: available, no services', () => {
    expect(parseIpvsadm(fixture('empty.txt'))).toEqual({ available: true, version: '1.2.1', tableSize: 4096, services: [], warnings: [] });
  });

  it('IPVS not in the kernel → available: false with the reason', () => {
    const t = parseIpvsadm(fixture('unavailable.txt'));
    expect(t.available).toBe(false);
    expect(t.reason).toMatch(/^Can't initialize ipvs: Protocol not available/);
    expect(t.reason).toMatch(/built in the kernel or as module\?$/);
    expect(t.services).toEqual([]);
  });
});

describe('parseIpvsadm: single lines', () => {
  it.each<[string, Partial<IpvsService>]>([
    ['FWM  256 rr', { protocol: 'FWM', fwmark: 256, scheduler: 'rr', flags: [], family: 'inet' }],
    ['FWM  257 rr persistent 360', { protocol: 'FWM', fwmark: 257, scheduler: 'rr', flags: ['persistent 360'], persistent: 360 }],
    ['FWM  300 IPv6 rr', { protocol: 'FWM', fwmark: 300, family: 'inet6', scheduler: 'rr' }],
    ['TCP  10.0.1.2:80 rr', { protocol: 'TCP', address: '10.0.1.2', port: 80, scheduler: 'rr' }],
    ['UDP  10.0.1.2:53 rr', { protocol: 'UDP', address: '10.0.1.2', port: 53 }],
    ['SCTP  10.0.1.2:3868 rr', { protocol: 'SCTP', address: '10.0.1.2', port: 3868 }],
    ['TCP  [2001:db8::1]:80 rr', { protocol: 'TCP', address: '2001:db8::1', port: 80, family: 'inet6' }],
    ['TCP  [2001:db8::1]:80 wrr persistent 60 mask 64 pe sip', { flags: ['persistent 60', 'mask 64', 'pe sip'], persistent: 60 }],
    ['TCP  10.0.0.1:80 rr (flag-1,flag-2) ops', { flags: ['flag-1', 'flag-2', 'ops'] }],
  ])('%s', (line, expected) => {
    const t = parseIpvsadm(`${HEADER}\n${line}\n`);
    expect(t.warnings).toEqual([]);
    expect(t.services).toHaveLength(1);
    expect(t.services[0]).toMatchObject({ realServers: [], ...expected });
  });

  it.each<[string, { address: string; port: number; forward: string; weight: number; activeConn: number; inactConn: number }]>([
    [
      '  -> 10.0.0.5:0                   Masq    1      0          0         ',
      { address: '10.0.0.5', port: 0, forward: 'Masq', weight: 1, activeConn: 0, inactConn: 0 },
    ],
    ['  -> 10.0.0.5:0 Masq 1 0 0', { address: '10.0.0.5', port: 0, forward: 'Masq', weight: 1, activeConn: 0, inactConn: 0 }],
    [
      '  -> 10.0.1.3:80                  Route   0      12         345       ',
      { address: '10.0.1.3', port: 80, forward: 'Route', weight: 0, activeConn: 12, inactConn: 345 },
    ],
    [
      '  -> [2001:db8::2]:80             Tunnel  5      1          2',
      { address: '2001:db8::2', port: 80, forward: 'Tunnel', weight: 5, activeConn: 1, inactConn: 2 },
    ],
    [
      '  -> 10.0.0.9:0                   (null)  1      0          0',
      { address: '10.0.0.9', port: 0, forward: '(null)', weight: 1, activeConn: 0, inactConn: 0 },
    ],
  ])('real server %j', (line, expected) => {
    const t = parseIpvsadm(`${HEADER}\nFWM  256 rr\n${line}\n`);
    expect(t.warnings).toEqual([]);
    expect(t.services[0]!.realServers).toEqual([expected]);
  });
});

describe('parseIpvsadm: malformed and truncated input', () => {
  it.each<[string, string, { available: boolean; services: number; real?: number; warnings: RegExp[]; reason?: RegExp }]>([
    ['empty string', '', { available: false, services: 0, warnings: [/empty output/], reason: /empty output/ }],
    ['only blank lines', '\n \n', { available: false, services: 0, warnings: [/empty output/] }],
    ['header only, cut after the first line', 'IP Virtual Server version 1.2.1 (size=4096)\n', { available: true, services: 0, warnings: [] }],
    [
      'real server line cut mid-way',
      `${HEADER}\nFWM  256 rr\n  -> 10.0.0.5:0                   Masq    1`,
      { available: true, services: 1, real: 0, warnings: [/cannot read real server line/] },
    ],
    ['service line cut before the scheduler', `${HEADER}\nFWM  256`, { available: true, services: 1, warnings: [/without a scheduler/] }],
    ['service line cut in the address', `${HEADER}\nTCP  10.0.1.2:`, { available: true, services: 0, warnings: [/cannot read address:port/] }],
    [
      'real server with no service (header truncated away)',
      '  -> 10.0.0.5:0                   Masq    1      0          0\nFWM  257 rr\n',
      { available: true, services: 1, real: 0, warnings: [/real server before any service/, /no "IP Virtual Server version" header/] },
    ],
    [
      'real servers after an unreadable service are not attached to the previous one',
      `${HEADER}\nFWM  256 rr\n  -> 10.0.0.5:0 Masq 1 0 0\nTCP  nonsense rr\n  -> 10.0.0.6:0 Masq 1 0 0\n`,
      { available: true, services: 1, real: 1, warnings: [/cannot read address:port/, /real server before any service/] },
    ],
    ['bad fwmark', `${HEADER}\nFWM  0x100 rr\n`, { available: true, services: 0, warnings: [/firewall mark "0x100" is not a number/] }],
    ['bad persistence', `${HEADER}\nFWM  256 rr persistent forever\n`, { available: true, services: 1, warnings: [/persistence timeout/] }],
    ['persistent without a value', `${HEADER}\nFWM  256 rr persistent`, { available: true, services: 1, warnings: [/"persistent" without a value/] }],
    ['garbage line', `${HEADER}\nhello world\nFWM  256 rr\n`, { available: true, services: 1, warnings: [/unrecognised line: hello world/] }],
    ['ipvsadm missing', 'sh: 1: ipvsadm: not found\n', { available: false, services: 0, warnings: [], reason: /ipvsadm: not found/ }],
    ['command not found', 'bash: ipvsadm: command not found', { available: false, services: 0, warnings: [], reason: /command not found/ }],
    ['unrelated text only', 'something else entirely\n', { available: false, services: 0, warnings: [/unrecognised line/], reason: /no IPVS table/ }],
    [
      'stats listing is flagged',
      'IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n  -> RemoteAddress:Port\nFWM  256                             3       18        0     1188        0\n',
      { available: true, services: 1, warnings: [/not the default listing/] },
    ],
  ])('%s', (_label, text, expected) => {
    const t = parseIpvsadm(text);
    expect(t.available).toBe(expected.available);
    expect(t.services).toHaveLength(expected.services);
    if (expected.real !== undefined) expect(t.services.reduce((n, s) => n + s.realServers.length, 0)).toBe(expected.real);
    expect(t.warnings).toHaveLength(expected.warnings.length);
    expected.warnings.forEach((re, i) => expect(t.warnings[i]).toMatch(re));
    if (expected.reason) expect(t.reason).toMatch(expected.reason);
  });

  it('CRLF line endings', () => {
    const t = parseIpvsadm(fixture('ingress-sbox.txt').replace(/\n/g, '\r\n'));
    expect(t.warnings).toEqual([]);
    expect(t.services.map((s) => s.realServers.length)).toEqual([2, 2]);
  });

  it.each(FIXTURES)('%s: every truncation parses without throwing', (name) => {
    const text = fixture(name);
    for (let cut = 0; cut <= text.length; cut += 3) {
      const t = parseIpvsadm(text.slice(0, cut));
      expect(Array.isArray(t.services)).toBe(true);
      expect(Array.isArray(t.warnings)).toBe(true);
      for (const s of t.services) for (const r of s.realServers) expect(Number.isInteger(r.port)).toBe(true);
    }
  });
});

describe('fwmarkOf', () => {
  it.each<[string, number]>([
    ['0x100/0xffffffff', 256],
    ['0x101/0xffffffff', 257],
    ['0xd0c4e3/0xffffffff', 0xd0c4e3],
    ['0x100', 256],
    ['256', 256],
    ['0X1FF/0XFFFFFFFF', 511],
    ['0x1ff/0xff', 0xff],
    ['0xffffffff/0xffffffff', 0xffffffff],
    [' 0x100/0xffffffff ', 256],
  ])('%j → %d', (input, expected) => {
    expect(fwmarkOf(input)).toBe(expected);
  });

  it.each(['', 'mark', '0x/0xffffffff', '0x100/', '/0xffffffff', '0x100000000', '-1', '0x100/0xffffffff/1'])('%j → NaN', (input) => {
    expect(fwmarkOf(input)).toBeNaN();
  });
});

describe('splitAddrPort', () => {
  it.each<[string, ReturnType<typeof splitAddrPort>]>([
    ['10.0.0.5:0', { address: '10.0.0.5', port: 0, family: 'inet' }],
    ['10.0.1.2:80', { address: '10.0.1.2', port: 80, family: 'inet' }],
    ['[2001:db8::1]:80', { address: '2001:db8::1', port: 80, family: 'inet6' }],
    ['[::1]:65535', { address: '::1', port: 65535, family: 'inet6' }],
    ['10.0.0.5', null],
    ['10.0.0.5:', null],
    ['10.0.0.5:70000', null],
    ['2001:db8::1:80', null],
    ['[]:80', null],
    ['web:http', null],
  ])('%j', (input, expected) => {
    expect(splitAddrPort(input)).toEqual(expected);
  });
});
