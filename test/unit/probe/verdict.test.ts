/**
 * Probe verdicts on what the probe programs really printed on the lab
 * (test/fixtures/lab/probes, recorded with scripts/record-probes.mjs): a
 * healthy run, and a run with udp/4789 dropped by nd3's INPUT chain.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  dataPathVerdict,
  espVerdict,
  mtuVerdict,
  probeResults,
  readCapture,
  tcpVerdict,
  udpVerdict,
  type ObservedProbes,
} from '../../../src/probe/verdict.js';
import { expectedAt } from '../../../src/probe/run.js';
import { parseProbeLines } from '../../../src/probe/script.js';
import { labSnapshot } from '../../support/lab-fixtures.js';

const snapshot = labSnapshot('healthy');

function recorded(name: string): ObservedProbes {
  const raw = JSON.parse(readFileSync(new URL(`../../fixtures/lab/probes/${name}.json`, import.meta.url), 'utf8')) as ObservedProbes & {
    captures: Record<string, ObservedProbes['captures'] extends ReadonlyMap<string, infer V> ? V : never>;
  };
  return { ...raw, captures: new Map(Object.entries(raw.captures)) };
}

const line = (text: string) => parseProbeLines(text).lines[0];

describe('a healthy lab run', () => {
  const r = probeResults(snapshot, recorded('healthy'));

  it('every probe between the 3 nodes is ok, on every ordered pair', () => {
    expect(r.errors).toEqual([]);
    // per ordered pair: tcp/7946, udp/7946, udp/4789; tcp/2377 from the two workers to the manager
    expect(r.ports).toHaveLength(6 * 3 + 2);
    expect(r.mtu).toHaveLength(6);
    // 2 overlay networks (ndnet, ingress) × 6 ordered pairs
    expect(r.dataPath).toHaveLength(12);
    const notOk = [...r.ports, ...r.mtu, ...r.dataPath].filter((p) => p.state !== 'ok');
    expect(notOk).toEqual([]);
    expect(r.dataPath.every((d) => d.dfState === 'ok')).toBe(true);
    expect(r.pairs).toBeUndefined();
  });

  it('every receiver stopped its capture as soon as the expected datagrams were in', () => {
    const obs = recorded('healthy');
    for (const [, cap] of obs.captures) {
      expect(cap.ok).toBe(true);
      expect(parseProbeLines(cap.text).complete).toBe(true);
    }
    expect(obs.durationMs).toBeLessThan(obs.captureSec * 1000);
  });

  it('a receiver that saw nothing from one sender makes exactly those pairs blocked', () => {
    const obs = recorded('healthy');
    const nd3 = obs.captures.get('nd3')!;
    const without = nd3.text
      .split('\n')
      .filter((l) => !/^C 10\.213\.0\.12 \S+ 4789$/.test(l) && l !== 'COMPLETE')
      .join('\n');
    const r2 = probeResults(snapshot, { ...obs, captures: new Map([...obs.captures, ['nd3', { ok: true, text: without }]]) });
    const blocked = r2.ports.filter((p) => p.state !== 'ok');
    expect(blocked).toEqual([
      expect.objectContaining({
        from: 'nd2',
        to: 'nd3',
        proto: 'udp',
        port: 4789,
        purpose: 'data-path',
        state: 'blocked',
        detail: '3 datagrams sent from nd2, none arrived on nd3 while every sender ran',
      }),
    ]);
  });

  it('the same, when that capture listened late or ended before every sender was done: unconfirmed, not blocked', () => {
    const obs = recorded('healthy');
    const without = obs.captures
      .get('nd3')!
      .text.split('\n')
      .filter((l) => !/^C 10\.213\.0\.12 \S+ 4789$/.test(l) && l !== 'COMPLETE')
      .join('\n');
    const captures = new Map([...obs.captures, ['nd3', { ok: true as const, text: without }]]);
    const r2 = probeResults(snapshot, { ...obs, captures, unsure: new Map([['nd3', 'it was not listening yet when the senders started']]) });
    expect(r2.ports.filter((p) => p.state !== 'ok')).toEqual([
      expect.objectContaining({
        from: 'nd2',
        to: 'nd3',
        port: 4789,
        state: 'unconfirmed',
        detail: 'sent; none seen on nd3, but its capture cannot tell: it was not listening yet when the senders started (node too busy)',
      }),
    ]);
    // What it did see still counts.
    expect(r2.ports.filter((p) => p.to === 'nd3' && p.proto === 'udp' && p.state === 'ok')).toHaveLength(3);
  });

  it('no tcpdump, or a failed capture, on the receiver: unconfirmed, never ok or blocked', () => {
    const obs = recorded('healthy');
    const r2 = probeResults(snapshot, {
      ...obs,
      captures: new Map([
        ...obs.captures,
        ['nd2', { ok: true, text: 'NOTCPDUMP\n' }],
        ['nd3', { ok: false, text: 'command timed out after 7000 ms' }],
      ]),
    });
    const udp = (to: string) => r2.ports.filter((p) => p.proto === 'udp' && p.to === to);
    expect(udp('nd2').every((p) => p.state === 'unconfirmed' && p.detail === 'sent; no tcpdump on nd2 to confirm receipt')).toBe(true);
    expect(udp('nd3').every((p) => p.state === 'unconfirmed' && /capture on nd3 failed: command timed out/.test(p.detail))).toBe(true);
    expect(udp('nd1').every((p) => p.state === 'ok')).toBe(true);
  });

  it('a sender whose program failed: one error for it, no results from it', () => {
    const obs = recorded('healthy');
    const senders = obs.senders.map((s) => (s.node === 'nd2' ? { ...s, output: { ok: false as const, text: 'connection closed' } } : s));
    const r2 = probeResults(snapshot, { ...obs, senders });
    expect(r2.errors).toEqual([{ node: 'nd2', message: 'probes from nd2 failed: connection closed' }]);
    expect(r2.ports.some((p) => p.from === 'nd2')).toBe(false);
    expect(r2.ports.filter((p) => p.to === 'nd2').length).toBeGreaterThan(0);
  });
});

describe('udp/4789 dropped by INPUT on nd3 (recorded)', () => {
  const r = probeResults(snapshot, recorded('udp4789-dropped-on-nd3'));

  it('the overlay pings to and from nd3 get no answer; the others pass', () => {
    const blocked = r.dataPath
      .filter((d) => d.state === 'blocked')
      .map((d) => `${d.from}->${d.to} ${d.network}`)
      .sort();
    expect(blocked).toEqual([
      'nd1->nd3 ingress',
      'nd1->nd3 ndnet',
      'nd2->nd3 ingress',
      'nd2->nd3 ndnet',
      'nd3->nd1 ingress',
      'nd3->nd1 ndnet',
      'nd3->nd2 ingress',
      'nd3->nd2 ndnet',
    ]);
    expect(r.dataPath.filter((d) => d.state === 'ok')).toHaveLength(4);
    expect(r.dataPath.find((d) => d.from === 'nd1' && d.to === 'nd3' && d.network === 'ndnet')!.detail).toMatch(
      /over VXLAN \(udp\/4789\) got no answer$/,
    );
  });

  it("the datagrams to nd3 are seen by its capture (before INPUT): ok here, the INPUT rule is the underlay check's to find", () => {
    const toNd3 = r.ports.filter((p) => p.proto === 'udp' && p.port === 4789 && p.to === 'nd3');
    expect(toNd3.map((p) => p.state)).toEqual(['ok', 'ok']);
  });

  it('the run took about one probe timeout (the blocked pings), not a fixed window more', () => {
    const obs = recorded('udp4789-dropped-on-nd3');
    expect(obs.durationMs).toBeGreaterThanOrEqual(obs.timeoutSec * 1000);
    expect(obs.durationMs).toBeLessThan(obs.timeoutSec * 1000 + 1000);
  });
});

describe('single verdicts on the lines the sender prints', () => {
  it('tcp: 0 connected, 124 timed out, other codes refused, nothing: unconfirmed', () => {
    expect(tcpVerdict(line('T 10.213.0.11 7946 0\n'), 2).state).toBe('ok');
    expect(tcpVerdict(line('T 10.213.0.11 7946 124\n'), 2)).toEqual({
      state: 'blocked',
      detail: 'no answer within 2 s (dropped by a firewall or no route)',
    });
    expect(tcpVerdict(line('T 10.213.0.11 7946 1\n'), 2).detail).toMatch(/refused/);
    expect(tcpVerdict(undefined, 2).state).toBe('unconfirmed');
  });

  it("mtu: DF fails while small pings pass → blocked with ping's reason; no ICMP at all → unconfirmed", () => {
    const df = line('P 10.213.0.12 1472 1 message too long, mtu=1400\n');
    expect(mtuVerdict(df, line('B 10.213.0.12 0\n'), 1500)).toEqual({
      state: 'blocked',
      detail: '1500-byte packets with DF do not pass though small pings do (message too long, mtu=1400): path MTU is below overlay MTU + 50',
    });
    expect(mtuVerdict(df, line('B 10.213.0.12 1\n'), 1500).state).toBe('unconfirmed');
    expect(mtuVerdict(line('P 10.213.0.12 1472 0 \n'), undefined, 1500).state).toBe('ok');
  });

  it("udp: a datagram from any of the sender's addresses counts; from another node it does not", () => {
    const capture = readCapture({ ok: true, text: 'READY\nC 10.213.0.13 10.213.0.11 7946\nDONE\n' });
    const base = { from: 'nd2', to: 'nd1', port: 7946, receiverReachable: true, capture, captureSec: 2 };
    expect(udpVerdict({ ...base, senderIps: new Set(['10.213.0.12']) }).state).toBe('blocked');
    expect(udpVerdict({ ...base, senderIps: new Set(['10.213.0.13']) }).state).toBe('ok');
    expect(udpVerdict({ ...base, receiverReachable: false, senderIps: new Set(['10.213.0.13']) }).state).toBe('unconfirmed');
  });

  it('udp: a capture stopped while tcpdump had not read all that matched cannot tell; one that read everything can', () => {
    const base = { from: 'nd2', to: 'nd1', port: 7946, receiverReachable: true, captureSec: 2, senderIps: new Set(['10.213.0.12']) };
    const seen = 'READY\nC 10.213.0.13 10.213.0.11 7946\n';
    const behind = readCapture({ ok: true, text: `${seen}STAT captured 1\nSTAT received 7\nSTAT dropped 0\nDONE\n` });
    expect(udpVerdict({ ...base, capture: behind })).toEqual({
      state: 'unconfirmed',
      detail: 'sent; none seen on nd1, but its capture cannot tell: it fell behind (1 of 7 matching datagrams read) (node too busy)',
    });
    const dropped = readCapture({ ok: true, text: `${seen}STAT captured 1\nSTAT received 1\nSTAT dropped 3\nDONE\n` });
    expect(udpVerdict({ ...base, capture: dropped }).detail).toContain('1 of 1 matching datagrams read, 3 dropped by the kernel');
    const readAll = readCapture({ ok: true, text: `${seen}STAT captured 1\nSTAT received 1\nSTAT dropped 0\nDONE\n` });
    expect(udpVerdict({ ...base, capture: readAll }).state).toBe('blocked');
  });

  it('data path: the small ping decides the state, the DF ping the dfState', () => {
    const d = { sandbox: 'lb_n28s5d637', ip: '10.0.1.4', payload: 1422, network: 'ndnet', peer: 'nd2' };
    const v = dataPathVerdict(d, line('D lb_n28s5d637 10.0.1.4 0 0\n'), line('D lb_n28s5d637 10.0.1.4 1422 1\n'), 'nd1', 4789);
    expect(v).toEqual({
      state: 'ok',
      dfState: 'blocked',
      detail: 'ping from lb_n28s5d637 to 10.0.1.4 on nd2 answered, but 1450-byte packets with DF do not pass',
    });
    expect(dataPathVerdict(d, undefined, undefined, 'nd1', 4789)).toEqual({ state: 'unconfirmed', dfState: null, detail: 'probe did not report' });
  });
});

describe('ESP verdicts on the lines the sender and the capture print', () => {
  const capture = readCapture({ ok: true, text: 'READY\nC 10.213.0.12 10.213.0.13 esp\nC 10.213.0.12 10.213.0.13 4789\nCOMPLETE\nDONE\n' });
  const base = { from: 'nd2', to: 'nd3', port: 'esp' as const, receiverReachable: true, capture, captureSec: 2, senderIps: new Set(['10.213.0.12']) };

  it('sent and seen by the receiver: ok; sent and not seen: blocked, in those words', () => {
    expect(espVerdict(line('E 10.213.0.13 0 perl\n'), base)).toEqual({ state: 'ok', detail: 'ESP packets (IP protocol 50) seen arriving on nd3' });
    const none = readCapture({ ok: true, text: 'READY\nC 10.213.0.12 10.213.0.13 4789\nDONE\n' });
    expect(espVerdict(line('E 10.213.0.13 0 python3\n'), { ...base, capture: none })).toEqual({
      state: 'blocked',
      detail: '3 ESP packets (IP protocol 50) sent from nd2, none arrived on nd3 while every sender ran',
    });
    // The UDP datagram from the same sender does not stand for ESP, nor ESP for UDP.
    expect(udpVerdict({ ...base, port: 7946 }).state).toBe('blocked');
  });

  it("refused by the sender's own kernel (EPERM, as perl and python3 print it): blocked at the sender, whatever the receiver saw", () => {
    expect(espVerdict(line('E 10.213.0.13 1 perl Operation not permitted\n'), base)).toEqual({
      state: 'blocked',
      detail: 'nd2 could not send ESP to nd3 (Operation not permitted): netfilter on nd2 refused it (an OUTPUT rule drops ESP)',
      senderRefused: true,
    });
    expect(espVerdict(line('E 10.213.0.13 1 python3 Network is unreachable\n'), base)).toEqual({
      state: 'blocked',
      detail: 'nd2 could not send ESP to nd3 (Network is unreachable)',
    });
  });

  it('no perl or python3, no raw socket, or no line at all: unconfirmed, saying which', () => {
    expect(espVerdict(line('E 10.213.0.13 127 -\n'), base)).toEqual({
      state: 'unconfirmed',
      detail: 'ESP not sent: nd2 has neither perl (with its Socket module) nor python3 to send raw IP packets',
    });
    expect(espVerdict(line('E 10.213.0.13 1 python3 socket: Operation not permitted\n'), base).detail).toBe(
      'ESP not sent: python3 on nd2 could not open a raw socket (socket: Operation not permitted)',
    );
    expect(espVerdict(undefined, base)).toEqual({ state: 'unconfirmed', detail: 'probe did not report' });
  });

  it('each capture waits for ESP only from the senders whose plan sends it ESP, IPv4 only', () => {
    const ipOf = new Map([
      ['nd1', '10.213.0.11'],
      ['nd2', '10.213.0.12'],
      ['nd3', '10.213.0.13'],
      ['nd4', 'fd00::4'],
    ]);
    const probers = ['nd1', 'nd2', 'nd3', 'nd4'].map((name) => ({ name }));
    const espTo = new Map([
      ['nd2', new Set(['nd3', 'nd4'])],
      ['nd3', new Set(['nd2'])],
      ['nd4', new Set(['nd3'])],
    ]);
    const at = (n: string) => expectedAt(n, probers, ipOf, [4789], espTo).filter((e) => e.port === 'esp');
    expect(at('nd3')).toEqual([{ src: '10.213.0.12', port: 'esp' }]);
    expect(at('nd2')).toEqual([{ src: '10.213.0.13', port: 'esp' }]);
    expect(at('nd1')).toEqual([]);
    expect(expectedAt('nd1', probers, ipOf, [4789], espTo)).toHaveLength(3);
  });
});

describe('ESP on the lab with an encrypted overlay on all three nodes (recorded)', () => {
  const esp = (name: string) => probeResults(snapshot, recorded(name)).ports.filter((p) => p.purpose === 'esp');

  it('healthy: the 6 ordered pairs ok, confirmed by the same captures that completed on the UDP datagrams', () => {
    const obs = recorded('esp-healthy');
    expect(obs.senders.map((s) => s.plan.esp?.ips.length)).toEqual([2, 2, 2]);
    expect(esp('esp-healthy').map((p) => `${p.from}->${p.to} ${p.state}`)).toEqual([
      'nd1->nd2 ok',
      'nd1->nd3 ok',
      'nd2->nd1 ok',
      'nd2->nd3 ok',
      'nd3->nd1 ok',
      'nd3->nd2 ok',
    ]);
    for (const [, cap] of obs.captures) expect(parseProbeLines(cap.text).complete).toBe(true);
  });

  it("iptables -I OUTPUT -p esp -j DROP on nd2: exactly nd2's two pairs blocked, refused by nd2's own kernel", () => {
    const bad = esp('esp-output-dropped-nd2').filter((p) => p.state !== 'ok');
    expect(bad).toEqual([
      expect.objectContaining({ from: 'nd2', to: 'nd1', state: 'blocked', senderRefused: true }),
      expect.objectContaining({ from: 'nd2', to: 'nd3', state: 'blocked', senderRefused: true }),
    ]);
    expect(bad[0]!.detail).toBe('nd2 could not send ESP to nd1 (Operation not permitted): netfilter on nd2 refused it (an OUTPUT rule drops ESP)');
    // Every UDP datagram still passed: only ESP was dropped.
    expect(probeResults(snapshot, recorded('esp-output-dropped-nd2')).ports.filter((p) => p.proto === 'udp' && p.state !== 'ok')).toEqual([]);
  });
});
