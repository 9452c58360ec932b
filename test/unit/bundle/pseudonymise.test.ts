import { randomBytes } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { Pseudonymiser, pseudonymiserFor } from '../../../src/bundle/pseudonymise.js';
import { readTarGz } from '../../../src/bundle/tar.js';
import { cidrContainsIp, formatIp, parseCidr, parseIp } from '../../../src/net/ip.js';
import { derivedMac } from '../../../src/net/ip.js';
import type { Finding } from '../../../src/checks/types.js';
import { analyse } from '../../../src/run/check.js';
import { parseSnapshot } from '../../../src/snapshot/io.js';
import { KEY, labBundle, labRun } from './helpers.js';

const p = new Pseudonymiser({ key: KEY, hosts: [['nd1', 'nd1.lab.example'], ['nd2'], ['nd3']] });

const v4 = (s: string): number => Number(parseIp(s)!.value);
const commonPrefix = (a: number, b: number): number => {
  const x = (a ^ b) >>> 0;
  return x === 0 ? 32 : Math.clz32(x);
};
const dotted = (n: number): string => [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');

describe('IPv4: prefix-preserving', () => {
  it('keeps the common prefix length of every pair of addresses', () => {
    const addrs = Array.from({ length: 300 }, () => dotted(randomBytes(4).readUInt32BE(0)));
    addrs.push('10.213.0.11', '10.213.0.12', '10.213.1.12', '10.0.1.5', '10.0.0.2', '172.18.0.1', '192.168.1.1');
    for (let i = 0; i < addrs.length; i++) {
      for (let j = i + 1; j < Math.min(addrs.length, i + 40); j++) {
        const a = addrs[i]!;
        const b = addrs[j]!;
        expect(commonPrefix(v4(p.ipv4(a)), v4(p.ipv4(b))), `${a} ${b}`).toBe(commonPrefix(v4(a), v4(b)));
      }
    }
  });

  it('is a bijection (no two addresses share a pseudonym) and deterministic for a key', () => {
    const seen = new Map<string, string>();
    for (let i = 0; i < 4096; i++) {
      const a = `10.213.${i >> 8}.${i & 255}`;
      const m = p.ipv4(a);
      expect(seen.get(m), `${a} and ${seen.get(m)} → ${m}`).toBeUndefined();
      seen.set(m, a);
    }
    expect(new Pseudonymiser({ key: KEY }).ipv4('10.213.0.11')).toBe(p.ipv4('10.213.0.11'));
    expect(new Pseudonymiser({ key: Buffer.alloc(32, 9) }).ipv4('10.213.0.11')).not.toBe(p.ipv4('10.213.0.11'));
  });

  it('subnets stay subnets of the same length: containment holds after mapping', () => {
    const cidr = '10.213.0.0/24';
    const mapped = p.addresses(cidr);
    expect(mapped).toMatch(/\/24$/);
    expect(parseCidr(mapped)!.base.toString()).toBe(parseIp(mapped.split('/')[0]!)!.value.toString()); // canonical: host bits cleared
    for (const host of ['10.213.0.1', '10.213.0.11', '10.213.0.254']) expect(cidrContainsIp(mapped, p.ipv4(host))).toBe(true);
    expect(cidrContainsIp(mapped, p.ipv4('10.213.1.11'))).toBe(false);
    // Network and broadcast addresses keep their role (the last octet is kept).
    expect(p.ipv4('10.213.0.11').endsWith('.11')).toBe(true);
    expect(p.addresses('10.0.1.0/24 brd 10.0.1.255')).toMatch(/^\d+\.\d+\.\d+\.0\/24 brd \d+\.\d+\.\d+\.255$/);
    expect(p.addresses('10.0.0.0/8')).toBe('10.0.0.0/8');
  });

  it('keeps 0.0.0.0, loopback, broadcast, multicast and netmasks; private and link-local stay in their ranges', () => {
    for (const a of [
      '0.0.0.0',
      '127.0.0.1',
      '127.0.0.11',
      '255.255.255.255',
      '224.0.0.5',
      '239.1.2.3',
      '255.255.255.0',
      '255.255.0.0',
      '255.0.0.0',
      '128.0.0.0',
      '192.0.0.0',
    ]) {
      expect(p.ipv4(a), a).toBe(a);
    }
    expect(p.addresses('0.0.0.0/0')).toBe('0.0.0.0/0');
    const within = (cidr: string, a: string) => expect(cidrContainsIp(cidr, p.ipv4(a)), `${a} in ${cidr}`).toBe(true);
    within('10.0.0.0/8', '10.213.0.11');
    within('172.16.0.0/12', '172.18.0.1');
    within('192.168.0.0/16', '192.168.7.9');
    within('169.254.0.0/16', '169.254.1.1');
    // An ordinary address never lands in a kept range.
    for (let i = 0; i < 500; i++) {
      const a = `${1 + (i % 9)}.${i}.${(i * 7) % 256}.${(i * 13) % 256}`.replace(/\.(\d{3,})\./, '.1.');
      const m = p.ipv4(a);
      if (!parseIp(a)) continue;
      for (const r of ['0.0.0.0/8', '127.0.0.0/8', '224.0.0.0/3', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16']) {
        expect(cidrContainsIp(r, m) === true && cidrContainsIp(r, a) !== true, `${a} → ${m} in ${r}`).toBe(false);
      }
    }
  });
});

describe('MACs, IPv6, hostnames, text', () => {
  it("rewrites Docker's IP-derived MACs to the mapped IP, and leaves other MACs", () => {
    for (const ip of ['10.0.1.5', '10.0.0.2', '10.213.0.11']) {
      expect(p.mac(derivedMac(ip)!)).toBe(derivedMac(p.ipv4(ip)));
      expect(p.addresses(`lladdr ${derivedMac(ip)} dst ${ip}`)).toBe(`lladdr ${derivedMac(p.ipv4(ip))} dst ${p.ipv4(ip)}`);
    }
    expect(p.mac('02:42:0A:00:01:05')).toBe(derivedMac(p.ipv4('10.0.1.5'))!.toUpperCase());
    expect(p.addresses('link/ether 52:54:00:12:34:56 brd ff:ff:ff:ff:ff:ff')).toBe('link/ether 52:54:00:12:34:56 brd ff:ff:ff:ff:ff:ff');
  });

  it('IPv6: keeps ::, ::1 and multicast, keeps link-local prefixes, follows the MAC in EUI-64 ids', () => {
    expect(p.ipv6('::')).toBe('::');
    expect(p.ipv6('::1')).toBe('::1');
    expect(p.ipv6('ff02::1')).toBe('ff02::1');
    // The link-local address the kernel derives from a MAC (EUI-64, u/l bit flipped).
    const eui = (mac: string): string => {
      const b = mac.split(':').map((x) => Number.parseInt(x, 16));
      const iid = [b[0]! ^ 2, b[1]!, b[2]!, 0xff, 0xfe, b[3]!, b[4]!, b[5]!].reduce((acc, x) => (acc << 8n) | BigInt(x), 0n);
      return formatIp({ family: 6, value: (0xfe80n << 112n) | iid });
    };
    const mac = derivedMac('10.0.1.5')!;
    expect(eui(mac)).toBe('fe80::42:aff:fe00:105');
    expect(p.ipv6(eui(mac))).toBe(eui(p.mac(mac)));
    expect(p.ipv6('fe80::5054:ff:fe12:3456')).toMatch(/^fe80::/);
    const a = p.ipv6('2001:db8:1::10');
    const b = p.ipv6('2001:db8:1::20');
    expect(a).not.toBe('2001:db8:1::10');
    expect(parseCidr(`${a}/64`)!.base).toBe(parseCidr(`${b}/64`)!.base);
    expect(p.addresses('inet6 2001:db8:1::/64 and ::ffff:10.213.0.11')).toBe(
      `inet6 ${p.addresses('2001:db8:1::/64')} and ::ffff:${p.ipv4('10.213.0.11')}`,
    );
  });

  it('does not take times, MACs or ports for addresses', () => {
    expect(p.addresses('at 15:35:10.826330557Z')).toBe('at 15:35:10.826330557Z');
    expect(p.addresses(`10.213.0.11:2377`)).toBe(`${p.ipv4('10.213.0.11')}:2377`);
    expect(p.addresses('version 20.10.24 and 1.2.3.4.5')).toBe('version 20.10.24 and 1.2.3.4.5');
  });

  it('hostnames become node-<n> as whole words, case-insensitively, FQDN and short name alike', () => {
    expect(p.text('nd1 ND2 nd3 and nd1.lab.example, /tmp/ndlab/nodes/nd1/docker.sock')).toBe(
      'node-1 node-2 node-3 and node-1, /tmp/ndlab/nodes/node-1/docker.sock',
    );
    expect(p.text('and1 nd12 xnd1 nd1x')).toBe('and1 nd12 xnd1 nd1x');
  });

  it('JSON: strings and address keys rewritten, structure kept', () => {
    const v = { node: 'nd2', '10.213.0.12': { peers: ['10.213.0.11'] }, nd3: 1, n: 5 };
    expect(p.json(v)).toEqual({ node: 'node-2', [p.ipv4('10.213.0.12')]: { peers: [p.ipv4('10.213.0.11')] }, 'node-3': 1, n: 5 });
  });
});

describe('a --redact-ips bundle', () => {
  const files = async (redact: boolean) =>
    readTarGz(labBundle(redact, 'collected nd1 at 10.213.0.11 (02:42:0a:00:01:05)\n').data, { maxBytes: 2 ** 30, maxEntries: 10_000 });
  const { snapshot } = labRun();
  const LAB_IPS = ['10.213.0.11', '10.213.0.12', '10.213.0.13', '10.0.1.5', '10.0.0.2', '172.18.0.1'];

  it('leaves no lab address, Docker MAC of one or hostname in any file, file names included', async () => {
    const all = await files(true);
    const original = await files(false);
    expect(all.size).toBe(original.size);
    const text = [...all.entries()].map(([k, v]) => `${k}\n${v.toString('utf8')}`).join('\n');
    for (const ip of LAB_IPS) {
      if (!original.get('snapshot.json')!.toString().includes(ip)) continue;
      expect(text.includes(ip), ip).toBe(false);
      expect(text.toLowerCase().includes(derivedMac(ip)!), derivedMac(ip)!).toBe(false);
    }
    expect(text).not.toMatch(/(?<![A-Za-z0-9_-])nd[123](?![A-Za-z0-9_-])/);
    expect([...all.keys()].some((k) => k.startsWith('nodes/node-2/'))).toBe(true);
  });

  it('renames consistently across files: snapshot, raw sections, reports, run log, manifest', async () => {
    const all = await files(true);
    const q = pseudonymiserFor(snapshot, KEY);
    const ip = q.ipv4('10.213.0.11');
    const mac = q.mac('02:42:0a:00:01:05');
    expect(all.get('netdoctor.log')!.toString()).toBe(`collected node-1 at ${ip} (${mac})\n`);
    const snap = parseSnapshot(all.get('snapshot.json')!.toString(), 'snapshot.json');
    expect(snap.cluster.nodes.find((n) => n.name === 'node-1')!.advertiseAddress).toBe(ip);
    expect(snap.nodes[0]!.target.host).toBe(ip);
    expect(all.get('nodes/node-1/host/addr.txt')!.toString()).toContain(`"local":"${ip}"`);
    expect(all.get('nodes/node-1/host/hostname.txt')!.toString().trim()).toBe('node-1');
    expect(all.get('cluster/nodes.json')!.toString()).toContain(`"Addr": "${ip}"`);
    const manifest = JSON.parse(all.get('manifest.json')!.toString());
    expect(manifest.redactIps).toBe(true);
    expect(manifest.nodes.map((n: { name: string }) => n.name)).toEqual(['node-1', 'node-2', 'node-3']);
    expect(manifest.argv).toContain('node-2');
    const md = all.get('report.md')!.toString();
    expect(md).toContain(`| node-1 | manager | ${ip} |`);
    // An overlay FDB entry and the task address it belongs to move together.
    const sb = snap.nodes[1]!.sandboxes.find((s) => s.networkName === 'ndnet')!;
    for (const e of sb.fdb.filter((x) => x.mac.startsWith('02:42') && x.dst)) {
      const owner = snap.cluster.networks.find((n) => n.name === 'ndnet')!.endpoints.find((x) => derivedMac(x.ip) === e.mac);
      if (owner) expect(e.dst).toBe(owner.hostIp);
    }
  });

  it('analyses offline to the same findings as the unredacted run, modulo the renaming', async () => {
    const { report } = labRun();
    const all = await files(true);
    const snap = parseSnapshot(all.get('snapshot.json')!.toString(), 'snapshot.json');
    const back = new Map(snap.cluster.nodes.map((n) => [n.name, snapshot.cluster.nodes.find((o) => o.id === n.id)!.name]));
    const name = (x: string | null) => (x === null ? null : (back.get(x) ?? x));
    const key = (f: Finding) => [f.id, f.status, f.node, f.peer, f.network].join(' | ');
    const offline = analyse(snap, {}).map((f) => key({ ...f, node: name(f.node), peer: name(f.peer) }));
    expect(offline).toEqual(report.findings.map(key));
    // And the bundle's own report says the same, renamed.
    const bundled = JSON.parse(all.get('report.json')!.toString()) as { findings: Finding[] };
    expect(bundled.findings.map((f) => key({ ...f, node: name(f.node), peer: name(f.peer) }))).toEqual(report.findings.map(key));
  });

  it('the bundle is a gzip tar either way', async () => {
    expect(gunzipSync(labBundle(true).data).subarray(257, 262).toString()).toBe('ustar');
  });
});
