/**
 * The firewall evaluator (src/model/firewall.ts) on recorded rule sets and on
 * single rules of the exact form iptables-save prints, and the per-node
 * firewall of the model: dumps parsed once, with their parser warnings.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildModel } from '../../../src/model/build.js';
import { describeOutcome, evaluate, firewallWarningsText, type Packet, type Root } from '../../../src/model/firewall.js';
import { parseIptablesSave } from '../../../src/parse/iptables.js';
import { labWith, ok, setSection } from '../../support/lab-mutate.js';

const fixture = (name: string): string => readFileSync(new URL(`../../fixtures/iptables/${name}`, import.meta.url), 'utf8');

/** A peer's first packet of a new flow into this node (INPUT) or from it (OUTPUT). */
const pkt = (proto: Packet['proto'], dport: number | null, root: Root = 'INPUT'): Packet => ({
  proto,
  dport,
  sport: null,
  src: root === 'INPUT' ? '10.213.0.12' : '10.213.0.11',
  dst: root === 'INPUT' ? '10.213.0.11' : '10.213.0.12',
  iface: 'eth0',
});

/** A minimal filter table around some rule lines, declaring every chain they use. */
function filterDump(...ruleLines: string[]): string {
  const builtins = ['INPUT', 'FORWARD', 'OUTPUT'];
  const chains = [...new Set(ruleLines.map((l) => l.split(' ')[1]!))].filter((c) => !builtins.includes(c));
  return ['*filter', ...builtins.map((c) => `:${c} ACCEPT [0:0]`), ...chains.map((c) => `:${c} - [0:0]`), ...ruleLines, 'COMMIT', ''].join('\n');
}

describe('evaluate on recorded rule sets', () => {
  it.each<[string, Packet['proto'], number | null, 'accepted' | 'dropped' | 'maybe', string | null]>([
    ['ufw-swarm.txt', 'udp', 4789, 'dropped', '-A ufw-user-input -p udp -m udp --dport 4789 -j DROP'],
    ['ufw-swarm.txt', 'tcp', 7946, 'accepted', null],
    ['ufw-swarm.txt', 'esp', null, 'dropped', '-A ufw-user-input -p esp -j DROP'],
    ['firewall-drops-counters.txt', 'udp', 4789, 'dropped', '-A INPUT -p udp -m udp --dport 4789 -j DROP'],
    [
      'firewall-drops-counters.txt',
      'tcp',
      7946,
      'dropped',
      '-A INPUT -p tcp -m multiport --dports 7946,2377 -j REJECT --reject-with icmp-port-unreachable',
    ],
    ['firewall-drops-counters.txt', 'esp', null, 'dropped', '-A INPUT -p esp -j DROP'],
    // Docker's encrypted-overlay guard is how Docker means VXLAN to flow: not counted.
    ['swarm-node-docker28-nft.txt', 'udp', 4789, 'accepted', null],
    ['swarm-node-docker24-legacy.txt', 'tcp', 2377, 'accepted', null],
    // No filter table at all: nothing filters.
    ['ingress-sbox-nat.txt', 'tcp', 8080, 'accepted', null],
  ])('%s %s/%s → %s', (name, proto, port, result, rule) => {
    const ev = evaluate(parseIptablesSave(fixture(name)), 'INPUT', pkt(proto, port));
    expect(ev.result).toBe(result);
    expect(ev.drops[0]?.rule?.raw ?? null).toBe(rule);
  });

  it('names the jumps that led to the drop (ufw)', () => {
    const ev = evaluate(parseIptablesSave(fixture('ufw-swarm.txt')), 'INPUT', pkt('udp', 4789));
    expect(ev.drops.map((d) => d.via.map((v) => v.raw))).toEqual([['-A INPUT -j ufw-before-input', '-A ufw-before-input -j ufw-user-input']]);
    expect(describeOutcome(ev.drops[0]!, 'INPUT')).toContain('(reached via `-A INPUT -j ufw-before-input`, `-A ufw-before-input -j ufw-user-input`)');
  });
});

describe('evaluate one rule (INPUT, udp/4789 unless said)', () => {
  it.each<[string, string, Packet['proto'], number | null, Root, 'accepted' | 'dropped' | 'maybe']>([
    ['no -p drops everything', '-A INPUT -j DROP', 'udp', 4789, 'INPUT', 'dropped'],
    ['other protocol', '-A INPUT -p tcp -m tcp --dport 4789 -j DROP', 'udp', 4789, 'INPUT', 'accepted'],
    ['other port', '-A INPUT -p udp -m udp --dport 4790 -j DROP', 'udp', 4789, 'INPUT', 'accepted'],
    ['range', '-A INPUT -p udp -m udp --dport 4000:5000 -j DROP', 'udp', 4789, 'INPUT', 'dropped'],
    ['multiport', '-A INPUT -p udp -m multiport --dports 7946,4789 -j DROP', 'udp', 4789, 'INPUT', 'dropped'],
    ['multiport miss', '-A INPUT -p udp -m multiport --dports 7946,4790 -j DROP', 'udp', 4789, 'INPUT', 'accepted'],
    ['negated port', '-A INPUT -p udp -m udp ! --dport 4789 -j DROP', 'udp', 4789, 'INPUT', 'accepted'],
    ['negated other port', '-A INPUT -p udp -m udp ! --dport 53 -j DROP', 'udp', 4789, 'INPUT', 'dropped'],
    ['negated protocol', '-A INPUT ! -p udp -j DROP', 'udp', 4789, 'INPUT', 'accepted'],
    ['numeric protocol', '-A INPUT -p 17 -m udp --dport 4789 -j DROP', 'udp', 4789, 'INPUT', 'dropped'],
    ['ESP by number', '-A INPUT -p 50 -j REJECT', 'esp', null, 'INPUT', 'dropped'],
    ['ESP upper case', '-A INPUT -p ESP -j DROP', 'esp', null, 'INPUT', 'dropped'],
    ['a port rule never matches ESP', '-A INPUT -p udp -m udp --dport 4789 -j DROP', 'esp', null, 'INPUT', 'accepted'],
    ['REJECT on OUTPUT', '-A OUTPUT -p tcp -m tcp --dport 2377 -j REJECT --reject-with tcp-reset', 'tcp', 2377, 'OUTPUT', 'dropped'],
    ['LOG does not decide', '-A INPUT -p tcp -m tcp --dport 2377 -j LOG', 'tcp', 2377, 'INPUT', 'accepted'],
    ['counting rule', '-A INPUT -p tcp -m tcp --dport 2377', 'tcp', 2377, 'INPUT', 'accepted'],
    ['established only: not a new flow', '-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j DROP', 'tcp', 2377, 'INPUT', 'accepted'],
    ['an ipset cannot be decided', '-A INPUT -m set --match-set blocked src -j DROP', 'udp', 4789, 'INPUT', 'maybe'],
    ['unreadable port spec cannot be decided', '-A INPUT -p tcp -m tcp --dport ssh -j DROP', 'tcp', 22, 'INPUT', 'maybe'],
    ['DOCKER-USER is FORWARD, not INPUT', '-A DOCKER-USER -p tcp -m tcp --dport 8080 -j DROP', 'tcp', 8080, 'INPUT', 'accepted'],
    ['-i applies to INPUT only', '-A OUTPUT -i eth0 -j DROP', 'tcp', 2377, 'OUTPUT', 'accepted'],
    ['source outside the rule', '-A INPUT -s 192.168.10.0/24 -j DROP', 'udp', 4789, 'INPUT', 'accepted'],
    ['negated source', '-A INPUT ! -s 192.168.10.0/24 -p udp -m udp --dport 4789 -j DROP', 'udp', 4789, 'INPUT', 'dropped'],
  ])('%s', (_label, line, proto, port, root, result) => {
    const d = parseIptablesSave(filterDump(line));
    expect(d.warnings).toEqual([]);
    expect(evaluate(d, root, pkt(proto, port, root)).result).toBe(result);
  });

  it('follows jumps only where the jump matches, and stops at a loop', () => {
    const d = parseIptablesSave(
      filterDump(
        '-A INPUT -p tcp -j TCPONLY',
        '-A INPUT -j A',
        '-A A -j B',
        '-A B -p udp -m udp --dport 4789 -j DROP',
        '-A B -j A',
        '-A TCPONLY -j DROP',
      ),
    );
    const vxlan = evaluate(d, 'INPUT', pkt('udp', 4789));
    expect(vxlan.result).toBe('dropped');
    expect(vxlan.drops.map((o) => [o.rule?.raw, o.via.map((v) => v.chain)])).toEqual([['-A B -p udp -m udp --dport 4789 -j DROP', ['INPUT', 'A']]]);
    // The kernel refuses loops; met in a dump anyway, the walk stops there instead of recursing.
    const gossip = evaluate(d, 'INPUT', pkt('udp', 7946));
    expect(gossip.drops.map((o) => [o.verdict, o.rule?.raw])).toEqual([['unknown', '-A B -j A']]);
    expect(evaluate(d, 'INPUT', pkt('tcp', 7946)).drops[0]?.rule?.raw).toBe('-A TCPONLY -j DROP');
  });
});

describe("the model's host firewall", () => {
  // A real dump cut short, as when the node's output ends mid-line: the filter table never arrives.
  const full = fixture('swarm-node-docker24-legacy.txt');
  const truncated = full.slice(0, full.indexOf('--dport 5353') + '--dport'.length);

  it('a truncated dump evaluates as "accepted", so its warnings are kept for the checks', () => {
    const s = labWith((x) => setSection(x, 'nd2', 'host/iptables-save', ok(truncated)));
    const fw = buildModel(s).node('nd2')!.firewall;
    expect(fw.filter.ok).toBe(true);
    if (!fw.filter.ok) return;
    expect(evaluate(fw.filter.value[0]!.dump, 'INPUT', pkt('udp', 4789)).result).toBe('accepted');
    expect(fw.filter.warnings).toEqual([
      'iptables-save: line 27: --dport without a value (truncated?): -A DOCKER-INGRESS -p udp -m udp --dport',
      'iptables-save: table nat has no COMMIT (truncated output?)',
    ]);
  });

  it('the recorded lab dumps have no warnings', () => {
    const m = buildModel(labWith(() => {}));
    for (const n of m.nodes) expect(n.firewall.warnings, n.name).toEqual([]);
  });

  it('warnings of a dump that does not decide filtering stay out of the filter read', () => {
    const s = labWith((x) => setSection(x, 'nd2', 'host/iptables-legacy-save', ok(truncated)));
    const fw = buildModel(s).node('nd2')!.firewall;
    expect(fw.warnings).toHaveLength(2);
    expect(fw.filter.ok && fw.filter.warnings).toEqual([]);
  });

  it('warnings in a finding: the first three, each bounded', () => {
    const long = `line 1: unrecognised line: ${'x'.repeat(500)}`;
    const text = firewallWarningsText([long, 'b', 'c', 'd', 'e']);
    expect(text.length).toBeLessThan(250);
    expect(text).toMatch(/…; b; c; and 2 more$/);
  });

  it('node text in a finding cannot drive the terminal: control characters are shown, not sent', () => {
    const d = parseIptablesSave(`${filterDump('-A INPUT -p udp -m udp --dport 4789 -m comment --comment "\u001b[2J" -j DROP')}bogus\u001b[31m\n`);
    expect(firewallWarningsText(d.warnings)).toBe('line 7: unrecognised line: bogus\\x1b[31m');
    const how = describeOutcome(evaluate(d, 'INPUT', pkt('udp', 4789)).drops[0]!, 'INPUT');
    expect(how).toContain('--comment "\\x1b[2J"');
    expect(how).not.toContain('\u001b');
  });
});
