import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isDockerChain, parseIptablesSave, portSpecIncludes, tokenizeRule, type IptablesDump, type IptRule } from '../../../src/parse/iptables.js';
import { dockerRuleBackends } from '../../../src/parse/host.js';
import { fwmarkOf, parseIpvsadm, findFwmarkService } from '../../../src/parse/ipvs.js';

const fixture = (name: string): string => readFileSync(new URL(`../../fixtures/iptables/${name}`, import.meta.url), 'utf8');
const ipvsFixture = (name: string): string => readFileSync(new URL(`../../fixtures/ipvs/${name}`, import.meta.url), 'utf8');

const FIXTURES = [
  'swarm-node-docker28-nft.txt',
  'swarm-node-docker24-legacy.txt',
  'ingress-sbox-mangle.txt',
  'ingress-sbox-nat.txt',
  'lb-sandbox.txt',
  'firewall-drops-counters.txt',
  'ufw-swarm.txt',
  'nft-legacy-warning.txt',
] as const;

const raws = (rules: IptRule[]) => rules.map((r) => r.raw);

/** Rules of one chain, in order. */
const rulesIn = (dump: IptablesDump, table: string, chain: string): IptRule[] => dump.tables[table]?.rules.filter((r) => r.chain === chain) ?? [];

/** MARK rules of the mangle table with their numeric fwmark. */
const fwmarkRules = (dump: IptablesDump) =>
  rulesIn(dump, 'mangle', 'PREROUTING')
    .concat(rulesIn(dump, 'mangle', 'INPUT'), rulesIn(dump, 'mangle', 'OUTPUT'))
    .filter((r) => r.target === 'MARK' && r.setMark !== undefined)
    .map((rule) => ({ rule, fwmark: fwmarkOf(rule.setMark!) }));

describe('tokenizeRule', () => {
  it.each([
    ['-A INPUT -j DROP', ['-A', 'INPUT', '-j', 'DROP'], false],
    ['-A INPUT   -p  tcp\t-j ACCEPT', ['-A', 'INPUT', '-p', 'tcp', '-j', 'ACCEPT'], false],
    ['-A X -m comment --comment "foo bar" -j ACCEPT', ['-A', 'X', '-m', 'comment', '--comment', 'foo bar', '-j', 'ACCEPT'], false],
    ['-A X -m comment --comment "say \\"hi\\" now" -j ACCEPT', ['-A', 'X', '-m', 'comment', '--comment', 'say "hi" now', '-j', 'ACCEPT'], false],
    [
      '-A X -m comment --comment "\\\'dapp_OpenSSH\\\'" -j ACCEPT',
      ['-A', 'X', '-m', 'comment', '--comment', "'dapp_OpenSSH'", '-j', 'ACCEPT'],
      false,
    ],
    ['-A X --log-prefix "[UFW BLOCK] "', ['-A', 'X', '--log-prefix', '[UFW BLOCK] '], false],
    ['-A X -m comment --comment ""', ['-A', 'X', '-m', 'comment', '--comment', ''], false],
    [
      '-A X -m u32 --u32 "0x0>>0x16&0x3c@0xc&0xffffff00=0x100100" -j DROP',
      ['-A', 'X', '-m', 'u32', '--u32', '0x0>>0x16&0x3c@0xc&0xffffff00=0x100100', '-j', 'DROP'],
      false,
    ],
    ['-A X --comment "never closed', ['-A', 'X', '--comment', 'never closed'], true],
    ['', [], false],
  ])('%j', (line, tokens, unterminated) => {
    expect(tokenizeRule(line)).toEqual({ tokens, unterminatedQuote: unterminated });
  });
});

describe('rule lines', () => {
  const rule = (line: string) => {
    const chain = tokenizeRule(line).tokens[1]!;
    return parseIptablesSave(`*filter\n:${chain} - [0:0]\n${line}\nCOMMIT\n`).tables.filter!.rules[0]!;
  };
  it.each<[string, Partial<IptRule>]>([
    ['-A INPUT -p udp -m udp --dport 4789 -j DROP', { protocol: 'udp', dport: '4789', match: ['udp'], target: 'DROP', negations: [] }],
    [
      '-A DOCKER-INGRESS -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.18.0.2:8080',
      { chain: 'DOCKER-INGRESS', protocol: 'tcp', dport: '8080', target: 'DNAT', toDestination: '172.18.0.2:8080' },
    ],
    ['-A PREROUTING -p tcp -m tcp --dport 8080 -j MARK --set-xmark 0x100/0xffffffff', { target: 'MARK', setMark: '0x100/0xffffffff' }],
    ['-A INPUT -d 10.0.0.4/32 -j MARK --set-xmark 0x100/0xffffffff', { destination: '10.0.0.4/32', setMark: '0x100/0xffffffff' }],
    [
      '-A POSTROUTING -d 10.0.0.0/24 -m ipvs --ipvs -j SNAT --to-source 10.0.0.2',
      { destination: '10.0.0.0/24', match: ['ipvs'], target: 'SNAT', toSource: '10.0.0.2' },
    ],
    ['-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER-INGRESS', { match: ['addrtype'], target: 'DOCKER-INGRESS' }],
    ['-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER', { destination: '127.0.0.0/8', negations: ['-d'] }],
    ['-A DOCKER ! -i docker0 -o docker0 -j DROP', { inIface: 'docker0', outIface: 'docker0', negations: ['-i'] }],
    [
      '-A INPUT -p tcp -m multiport --dports 7946,2377 -j REJECT --reject-with icmp-port-unreachable',
      { dport: '7946,2377', match: ['multiport'], target: 'REJECT' },
    ],
    ['-A INPUT -p udp -m udp ! --dport 53 -j LOGDROP', { dport: '53', negations: ['--dport'] }],
    ['-A INPUT -p udp -m udp --dport ! 53 -j LOGDROP', { dport: '53', negations: ['--dport'] }],
    ['-A INPUT ! -p esp -j ACCEPT', { protocol: 'esp', negations: ['-p'] }],
    ['-A INPUT -p 50 -j DROP', { protocol: '50' }],
    ['-A INPUT -p TCP -j DROP', { protocol: 'tcp' }],
    [
      '-A INPUT -s 192.168.10.0/24 -i eth0 -p tcp -m tcp --sport 1024:65535 --dport 22 -j ACCEPT',
      { source: '192.168.10.0/24', inIface: 'eth0', sport: '1024:65535', dport: '22' },
    ],
    [
      '-A ufw-user-input -p tcp -m multiport --dports 80,443 -m comment --comment "\\\'dapp_Nginx%20Full\\\'" -j ACCEPT',
      { dport: '80,443', comment: "'dapp_Nginx%20Full'", match: ['multiport', 'comment'] },
    ],
    [
      '-A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment "block incoming localnet connections" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP',
      { comment: 'block incoming localnet connections', negations: ['-s', '--ctstate'], match: ['comment', 'conntrack'] },
    ],
    ['-A DOCKER-FORWARD -m set --match-set docker-ext-bridges-v4 dst -j DOCKER', { match: ['set'], target: 'DOCKER' }],
    ['-A INPUT -p tcp -m tcp --tcp-flags SYN,RST,ACK SYN -j DROP', { protocol: 'tcp', target: 'DROP' }],
    ['-A INPUT -j ufw-before-input', { target: 'ufw-before-input' }],
    ['-A FORWARD -g DOCKER-X', { target: 'DOCKER-X', goto: true }],
    ['-A INPUT -p tcp -m tcp --dport 22', { target: null, dport: '22' }],
    [
      '-A POSTROUTING -s 172.18.0.0/16 ! -o docker_gwbridge -j MASQUERADE',
      { source: '172.18.0.0/16', outIface: 'docker_gwbridge', negations: ['-o'] },
    ],
    ['-A PREROUTING -d 10.0.0.5/32 -p tcp -m tcp --dport 8080 -j REDIRECT --to-ports 80', { toPorts: '80', target: 'REDIRECT' }],
  ])('%s', (line, expected) => {
    expect(rule(line)).toMatchObject(expected);
  });

  it('keeps the rule spec and raw line', () => {
    const r = rule('-A INPUT -m comment --comment "a b" -j ACCEPT');
    expect(r.args).toEqual(['-m', 'comment', '--comment', 'a b', '-j', 'ACCEPT']);
    expect(r.raw).toBe('-A INPUT -m comment --comment "a b" -j ACCEPT');
    expect(r.table).toBe('filter');
  });
});

describe('parseIptablesSave: fixtures', () => {
  it.each(FIXTURES)('%s parses without warnings', (name) => {
    const d = parseIptablesSave(fixture(name));
    expect(d.warnings).toEqual([]);
    expect(Object.keys(d.tables).length).toBeGreaterThan(0);
  });

  it.each<[string, 'nft' | 'legacy' | 'unknown', boolean, boolean]>([
    ['swarm-node-docker28-nft.txt', 'nft', false, false],
    ['swarm-node-docker24-legacy.txt', 'legacy', true, false],
    ['firewall-drops-counters.txt', 'legacy', false, false],
    ['ufw-swarm.txt', 'legacy', true, false],
    ['lb-sandbox.txt', 'nft', false, false],
    ['nft-legacy-warning.txt', 'nft', false, true],
  ])('%s → variant %s (ambiguous %s, legacy warning %s)', (name, variant, ambiguous, legacyWarning) => {
    const d = parseIptablesSave(fixture(name));
    expect(d.variant).toBe(variant);
    expect(d.variantAmbiguous).toBe(ambiguous);
    expect(d.legacyTablesPresentWarning).toBe(legacyWarning);
  });

  it('Docker 28 swarm node: tables, chains, policies and Docker rule shapes', () => {
    const d = parseIptablesSave(fixture('swarm-node-docker28-nft.txt'));
    expect(d.generator).toEqual({ program: 'iptables-nft-save', version: '1.8.10', nfTables: true });
    expect(Object.keys(d.tables)).toEqual(['mangle', 'filter', 'nat']);
    const filter = d.tables.filter!;
    expect(filter.chains.INPUT).toEqual({ policy: 'ACCEPT', counters: [0, 0] });
    expect(filter.chains.FORWARD?.policy).toBe('DROP');
    expect(filter.chains['DOCKER-USER']).toEqual({ policy: null, counters: [0, 0] });
    expect(Object.keys(filter.chains)).toContain('DOCKER-FORWARD');
    expect(raws(rulesIn(d, 'filter', 'FORWARD'))).toEqual([
      '-A FORWARD -j DOCKER-USER',
      '-A FORWARD -j DOCKER-INGRESS',
      '-A FORWARD -j DOCKER-FORWARD',
    ]);
    expect(rulesIn(d, 'filter', 'DOCKER-INGRESS').map((r) => [r.protocol, r.dport, r.sport, r.target])).toEqual([
      ['tcp', '8080', undefined, 'ACCEPT'],
      ['tcp', undefined, '8080', 'ACCEPT'],
      [undefined, undefined, undefined, 'RETURN'],
    ]);
    const dnat = rulesIn(d, 'nat', 'DOCKER-INGRESS')[0]!;
    expect(dnat).toMatchObject({ table: 'nat', protocol: 'tcp', dport: '8080', target: 'DNAT', toDestination: '172.18.0.2:8080' });
    expect(rulesIn(d, 'nat', 'PREROUTING')[0]).toMatchObject({ match: ['addrtype'], target: 'DOCKER-INGRESS' });
    const guard = rulesIn(d, 'filter', 'INPUT')[0]!;
    expect(guard).toMatchObject({ match: ['policy', 'udp', 'u32'], dport: '4789', target: 'DROP' });
    expect(guard.args).toContain('0x0>>0x16&0x3c@0xc&0xffffff00=0x100100');
    expect(rulesIn(d, 'mangle', 'OUTPUT')[0]?.setMark).toBe('0xd0c4e3/0xffffffff');
  });

  it('pre-28 legacy node: DOCKER-INGRESS for tcp and udp published ports', () => {
    const d = parseIptablesSave(fixture('swarm-node-docker24-legacy.txt'));
    expect(d.generator).toEqual({ program: 'iptables-save', version: '1.8.7', nfTables: false });
    expect(d.tables.filter?.chains.INPUT).toEqual({ policy: 'ACCEPT', counters: [177402, 151946818] });
    expect(d.tables.mangle?.rules).toEqual([]);
    expect(rulesIn(d, 'nat', 'DOCKER-INGRESS').map((r) => r.toDestination)).toEqual(['172.18.0.2:5353', '172.18.0.2:8080', undefined]);
    expect(rulesIn(d, 'filter', 'DOCKER-ISOLATION-STAGE-1')).toHaveLength(3);
  });

  it('rule counters from iptables-save -c', () => {
    const d = parseIptablesSave(fixture('firewall-drops-counters.txt'));
    const vxlan = rulesIn(d, 'filter', 'INPUT').find((r) => r.dport === '4789')!;
    expect(vxlan.counters).toEqual([211, 30210]);
    expect(vxlan.raw).toBe('-A INPUT -p udp -m udp --dport 4789 -j DROP');
    expect(rulesIn(d, 'filter', 'INPUT').at(-1)?.comment).toBe('default deny, see /etc/iptables/rules.v4');
    expect(rulesIn(d, 'filter', 'LOGDROP')[0]?.args).toContain('iptables denied: ');
  });

  it('ingress_sbox mangle marks map onto the ingress IPVS fwmark services', () => {
    const d = parseIptablesSave(fixture('ingress-sbox-mangle.txt'));
    const marks = fwmarkRules(d);
    expect(marks.map((m) => [m.rule.chain, m.rule.protocol ?? m.rule.destination, m.rule.dport ?? null, m.fwmark])).toEqual([
      ['PREROUTING', 'tcp', '8080', 256],
      ['PREROUTING', 'udp', '5353', 258],
      ['INPUT', '10.0.0.4/32', null, 256],
      ['INPUT', '10.0.0.9/32', null, 258],
    ]);
    const ipvs = parseIpvsadm(ipvsFixture('ingress-sbox.txt'));
    for (const m of marks) expect(findFwmarkService(ipvs, m.fwmark)?.scheduler).toBe('rr');
  });

  it('ingress_sbox / lb sandbox nat: ipvs SNAT to the sandbox address', () => {
    for (const [name, subnet, src] of [
      ['ingress-sbox-nat.txt', '10.0.0.0/24', '10.0.0.2'],
      ['lb-sandbox.txt', '10.0.1.0/24', '10.0.1.4'],
    ] as const) {
      const snat = rulesIn(parseIptablesSave(fixture(name)), 'nat', 'POSTROUTING');
      expect(snat).toHaveLength(1);
      expect(snat[0]).toMatchObject({ destination: subnet, match: ['ipvs'], target: 'SNAT', toSource: src });
      expect(snat[0]!.args).toContain('--ipvs');
    }
    expect(fwmarkRules(parseIptablesSave(fixture('lb-sandbox.txt'))).map((m) => m.fwmark)).toEqual([257, 259, 260]);
  });
});

describe("Docker's chains", () => {
  it.each<[string, ('legacy' | 'nft')[]]>([
    ['swarm-node-docker28-nft.txt', ['nft']],
    ['swarm-node-docker24-legacy.txt', ['legacy']],
    ['firewall-drops-counters.txt', ['legacy']],
    ['ufw-swarm.txt', ['legacy']],
    ['nft-legacy-warning.txt', []],
    ['ingress-sbox-mangle.txt', []],
  ])('%s: the backends holding them (dockerRuleBackends over isDockerChain)', (name, backends) => {
    const text = fixture(name);
    const nft = text.includes('nf_tables');
    expect(dockerRuleBackends(nft ? null : text, nft ? text : null, text, null)).toEqual(backends);
  });

  it.each([
    ['DOCKER', true],
    ['DOCKER-USER', true],
    ['DOCKER-ISOLATION-STAGE-1', true],
    ['DOCKER-FORWARD', true],
    ['DOCKER-CT', true],
    ['DOCKER_OUTPUT', false],
    ['KUBE-FIREWALL', false],
    ['docker', false],
  ])('isDockerChain(%s) = %s', (name, expected) => {
    expect(isDockerChain(name)).toBe(expected);
  });
});

describe('portSpecIncludes', () => {
  it.each<[string, number, boolean | null]>([
    ['4789', 4789, true],
    ['4789', 4790, false],
    ['7000:8000', 7946, true],
    ['7000:8000', 8001, false],
    ['8000:7000', 7946, true],
    [':1024', 22, true],
    ['1024:', 4789, true],
    ['1024:', 22, false],
    ['7946,4789', 4789, true],
    ['7946,4789', 2377, false],
    ['22,7000:8000,9000', 7946, true],
    ['ssh', 22, null],
    ['', 22, null],
  ])('%j includes %d → %s', (spec, port, expected) => {
    expect(portSpecIncludes(spec, port)).toBe(expected);
  });
});

describe('parseIptablesSave: variant detection', () => {
  const v = (header: string) => {
    const d = parseIptablesSave(`${header}\n*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n`);
    return [d.variant, d.variantAmbiguous];
  };
  it.each<[string, [string, boolean]]>([
    ['# Generated by iptables-nft-save v1.8.9 (nf_tables) on Tue Dec 12 03:20:27 2023', ['nft', false]],
    ['# Generated by iptables-save v1.8.10 (nf_tables) on Tue Dec 12 03:20:27 2023', ['nft', false]],
    ['# Generated by iptables-nft-save v1.8.4 on Wed May  8 15:23:58 2024', ['nft', false]],
    ['# Generated by ip6tables-nft-save v1.8.7 on Wed May  8 15:23:58 2024', ['nft', false]],
    ['# Generated by iptables-legacy-save v1.8.9 on Wed Mar  6 09:12:44 2024', ['legacy', false]],
    ['# Generated by iptables-save v1.8.7 on Mon Mar  4 10:21:33 2024', ['legacy', true]],
    ['# Generated by iptables-save v1.8.9 on Mon Mar  4 10:21:33 2024', ['legacy', false]],
    ['# Generated by iptables-save v1.6.1 on Mon Mar  4 10:21:33 2019', ['legacy', false]],
    ['# Generated by iptables-save v1.4.21 on Mon Mar  4 10:21:33 2016', ['legacy', false]],
    ['', ['unknown', false]],
    ['# some other comment', ['unknown', false]],
  ])('%j', (header, expected) => {
    expect(v(header)).toEqual(expected);
  });

  it('legacy warning alone marks nft (also the -L style wording, first line)', () => {
    const d = parseIptablesSave('# Warning: iptables-legacy tables present, use iptables-legacy to see them\n*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n');
    expect(d).toMatchObject({ variant: 'nft', legacyTablesPresentWarning: true, warnings: [] });
  });

  it('incompatible table note (nft) is a warning, not an error', () => {
    const d = parseIptablesSave("# Table `filter' is incompatible, use 'nft' tool.\n");
    expect(d.variant).toBe('nft');
    expect(d.warnings).toHaveLength(1);
    expect(d.warnings[0]).toMatch(/filter.*incompatible/);
  });
});

describe('parseIptablesSave: malformed and truncated input', () => {
  it.each<[string, string, { tables?: string[]; rules?: number; warnings: RegExp[] }]>([
    ['empty', '', { tables: [], rules: 0, warnings: [] }],
    ['whitespace', '  \n\n\t\n', { tables: [], rules: 0, warnings: [] }],
    ['CRLF line endings', '*filter\r\n:INPUT DROP [0:0]\r\n-A INPUT -j ACCEPT\r\nCOMMIT\r\n', { tables: ['filter'], rules: 1, warnings: [] }],
    ['no COMMIT (truncated)', '*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j ACCEPT\n', { tables: ['filter'], rules: 1, warnings: [/no COMMIT/] }],
    [
      'next table before COMMIT',
      '*filter\n:INPUT ACCEPT [0:0]\n*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n',
      { tables: ['filter', 'nat'], rules: 0, warnings: [/filter has no COMMIT before \*nat/] },
    ],
    ['rule outside a table', '-A INPUT -j DROP\n', { tables: [], rules: 0, warnings: [/rule outside a table/] }],
    [
      'rule after COMMIT',
      '*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n-A INPUT -j DROP\n',
      { tables: ['filter'], rules: 0, warnings: [/rule outside a table/] },
    ],
    ['chain line cut short', '*filter\n:INPUT\nCOMMIT\n', { tables: ['filter'], rules: 0, warnings: [/without policy/] }],
    [
      'chain line garbage',
      '*filter\n:INPUT ACCEPT [x:y] extra\nCOMMIT\n',
      { tables: ['filter'], rules: 0, warnings: [/cannot read chain declaration/] },
    ],
    ['undeclared chain', '*filter\n-A MYSTERY -j DROP\nCOMMIT\n', { tables: ['filter'], rules: 1, warnings: [/undeclared chain MYSTERY/] }],
    [
      'rule cut after option',
      '*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p udp -m udp --dport\n',
      { tables: ['filter'], rules: 1, warnings: [/--dport without a value/, /no COMMIT/] },
    ],
    [
      'rule cut after !',
      '*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p udp !\nCOMMIT\n',
      { tables: ['filter'], rules: 1, warnings: [/! without a value/] },
    ],
    ['-A without chain', '*filter\n-A\nCOMMIT\n', { tables: ['filter'], rules: 0, warnings: [/without a chain/] }],
    ['rule without spec', '*filter\n:INPUT ACCEPT [0:0]\n-A INPUT\nCOMMIT\n', { tables: ['filter'], rules: 1, warnings: [/without a spec/] }],
    [
      'unterminated quote',
      '*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m comment --comment "cut here\n',
      { tables: ['filter'], rules: 1, warnings: [/unterminated quote/, /no COMMIT/] },
    ],
    [
      'bad table name',
      '*fil ter\n:INPUT ACCEPT [0:0]\nCOMMIT\n',
      { tables: [], rules: 0, warnings: [/bad table name/, /outside a table/, /COMMIT outside/] },
    ],
    ['stray error text', 'sh: 1: iptables-save: not found\n', { tables: [], rules: 0, warnings: [/unrecognised line/] }],
    ['COMMIT alone', 'COMMIT\n', { tables: [], rules: 0, warnings: [/COMMIT outside a table/] }],
    [
      '-I accepted as append',
      '*filter\n:INPUT ACCEPT [0:0]\n-I INPUT 1 -j DROP\nCOMMIT\n',
      { tables: ['filter'], rules: 1, warnings: [/-I in a save dump/] },
    ],
  ])('%s', (_label, text, expected) => {
    const d = parseIptablesSave(text);
    if (expected.tables) expect(Object.keys(d.tables)).toEqual(expected.tables);
    if (expected.rules !== undefined) expect(Object.values(d.tables).reduce((n, t) => n + t.rules.length, 0)).toBe(expected.rules);
    expect(d.warnings).toHaveLength(expected.warnings.length);
    expected.warnings.forEach((re, i) => expect(d.warnings[i]).toMatch(re));
  });

  it('the rule of a truncated line keeps what was parsed', () => {
    const d = parseIptablesSave('*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p udp -m udp --dport');
    expect(rulesIn(d, 'filter', 'INPUT')[0]).toMatchObject({ protocol: 'udp', match: ['udp'], target: null });
  });

  it('-N and -P lines (iptables -S style inside a table) declare chains and policies', () => {
    const d = parseIptablesSave('*filter\n-P INPUT DROP\n-N DOCKER-USER\n-A DOCKER-USER -j RETURN\nCOMMIT\n');
    expect(d.tables.filter?.chains).toEqual({ INPUT: { policy: 'DROP' }, 'DOCKER-USER': { policy: null } });
    expect(d.warnings).toEqual([]);
  });

  it.each(FIXTURES)('%s: every truncation parses without throwing', (name) => {
    const text = fixture(name);
    for (let cut = 0; cut <= text.length; cut += 7) {
      const d = parseIptablesSave(text.slice(0, cut));
      expect(Array.isArray(d.warnings)).toBe(true);
      for (const t of Object.values(d.tables)) for (const r of t.rules) expect(Array.isArray(r.args)).toBe(true);
    }
  });

  it('never throws on non-string-ish garbage', () => {
    for (const junk of ['\u0000\u0001', '"""', '\\', '* \n: \n-A "\n[1:2]\n[1:2] -A', '!'.repeat(100)]) {
      expect(() => parseIptablesSave(junk)).not.toThrow();
    }
  });
});
