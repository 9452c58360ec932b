/**
 * The sandbox-level parsers on text of the exact form real hosts print:
 * `ipvsadm -L --timeout` (ipvsadm.c print_timeout: "Timeout (tcp tcpfin
 * udp): %d %d %d"), the collection script's key=value sysctl lines, and
 * iproute2's `ip -j route get`.
 */
import { describe, expect, it } from 'vitest';
import { parseIpvsTimeout, parseRouteGet, parseSysctlLines } from '../../../src/parse/sandbox.js';

describe('parseIpvsTimeout', () => {
  it('reads the line ipvsadm prints (kernel defaults, and a host that lowered udp)', () => {
    expect(parseIpvsTimeout('Timeout (tcp tcpfin udp): 900 120 300\n')).toEqual({ tcp: 900, tcpfin: 120, udp: 300 });
    expect(parseIpvsTimeout('Timeout (tcp tcpfin udp): 900 120 15\n')).toEqual({ tcp: 900, tcpfin: 120, udp: 15 });
  });
  it('is null for anything else: an error, the table listing, an overlong number', () => {
    expect(
      parseIpvsTimeout("Can't initialize ipvs: Protocol not available\nAre you sure that IP Virtual Server is built in the kernel or as module?\n"),
    ).toBeNull();
    expect(parseIpvsTimeout('IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n')).toBeNull();
    expect(parseIpvsTimeout('Timeout (tcp tcpfin udp): 99999999999 1 1')).toBeNull();
    expect(parseIpvsTimeout('')).toBeNull();
  });
});

describe('parseSysctlLines', () => {
  it('reads values and <absent> keys (net/ipv4/vs/* without IPVS)', () => {
    const m = parseSysctlLines('net/ipv4/ip_forward=1\nnet/ipv4/vs/conn_reuse_mode=<absent>\nnet/ipv4/vs/expire_nodest_conn=0\n');
    expect([...m]).toEqual([
      ['net/ipv4/ip_forward', '1'],
      ['net/ipv4/vs/conn_reuse_mode', null],
      ['net/ipv4/vs/expire_nodest_conn', '0'],
    ]);
  });
  it('ignores lines that are no key=value of a sysctl path', () => {
    expect([...parseSysctlLines('garbage\n=1\n__proto__ x=1\nsh: 1: cannot open\n')]).toEqual([]);
  });
});

describe('parseRouteGet', () => {
  it('reads one JSON array a line, and [] for a destination without a route', () => {
    const text =
      '[{"dst":"10.213.0.12","dev":"eth0","prefsrc":"10.213.0.11","flags":[],"uid":0,"cache":[]}]\n' +
      '[]\n' +
      '[{"type":"local","dst":"10.213.0.11","dev":"lo","prefsrc":"10.213.0.11","flags":[],"uid":0,"cache":["local"]}]\n';
    const r = parseRouteGet(text);
    expect(r.warnings).toEqual([]);
    expect(r.items).toEqual([
      { dst: '10.213.0.12', dev: 'eth0', prefsrc: '10.213.0.11', type: null },
      { dst: '10.213.0.11', dev: 'lo', prefsrc: '10.213.0.11', type: 'local' },
    ]);
  });
  it('warns on a line that is not JSON and keeps the others', () => {
    const r = parseRouteGet('RTNETLINK answers: Network is unreachable\n[{"dst":"10.0.0.1","dev":"eth1","prefsrc":"10.0.0.2"}]\n');
    expect(r.items.map((x) => x.prefsrc)).toEqual(['10.0.0.2']);
    expect(r.warnings).toHaveLength(1);
  });
});
