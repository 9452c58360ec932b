/**
 * The control-plane reads of the collection script under a real sh and
 * bash: each node's own `network inspect --verbose` (bounded, only ids the
 * node printed, the CLI's failure kept), the DNS plan (service names only,
 * capped), and the tiny resolver against a UDP server answering in DNS wire
 * format (RFC 1035) on 127.0.0.1: answers, NXDOMAIN, no answer, the
 * sandbox given up on when its first queries all go unanswered, and every
 * name asked at once.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DNS_LIMITS, DNS_RESOLVER, dnsPlan, dnsSections, networkViewSection, sandboxBatch } from '../../../src/collect/script.js';
import { splitSections } from '../../../src/collect/sections.js';
import { parseDnsAnswers } from '../../../src/model/ctlplane.js';
import { tempDir } from '../bundle/helpers.js';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.cleanup());

const PRELUDE = `have() { command -v "$1" >/dev/null 2>&1; }\nsec() { n=$1; shift; echo "BEGIN $n"; "$@"; echo "END $n $?"; }\n`;
const sh = (script: string, path: string) =>
  spawnSync('/bin/sh', ['-s'], { input: PRELUDE + script, encoding: 'utf8', env: { ...process.env, PATH: path }, timeout: 20_000 });

/** A `docker` on PATH that logs its arguments and answers like the lab's nd1 (recorded). */
function fakeDocker(ls: string, inspectExit = 0): string {
  const views = readFileSync(new URL('../../fixtures/lab/ctlplane/nd1.txt', import.meta.url), 'utf8');
  const body = views.split('BEGIN host/network-views\n')[1]!.split('\n\n')[0]!;
  writeFileSync(`${tmp.dir}/views`, `${body}\n`);
  writeFileSync(`${tmp.dir}/ls`, ls);
  writeFileSync(
    `${tmp.dir}/docker`,
    `#!/bin/sh\necho "$@" >> ${tmp.dir}/args\ncase "$2" in ls) cat ${tmp.dir}/ls;; inspect) cat ${tmp.dir}/views; exit ${inspectExit};; esac\n`,
  );
  chmodSync(`${tmp.dir}/docker`, 0o755);
  return `${tmp.dir}:${process.env.PATH ?? '/usr/bin:/bin'}`;
}

describe('host/network-views', () => {
  it('inspects exactly the ids the node listed (nothing else reaches the command line), with index so a network without Peers does not fail the rest', () => {
    const path = fakeDocker('icax854i1zq\nx;touch /tmp/nd-pwned\nbx8dxizepxbjw99fvd227auu7\n');
    const r = sh(networkViewSection(), path);
    expect(r.stdout).toContain('"Name":"ndnet"');
    expect(r.stdout).toMatch(/END host\/network-views 0/);
    const args = readFileSync(`${tmp.dir}/args`, 'utf8').trim().split('\n');
    expect(args[0]).toBe('network ls -q --no-trunc --filter driver=overlay --filter scope=swarm');
    expect(args[1]).toMatch(
      /^network inspect --verbose --format \{"Id":\{\{json \.Id\}\},"Name":\{\{json \.Name\}\},"Peers":\{\{json \(index \. "Peers"\)\}\},"Services":\{\{json \(index \. "Services"\)\}\}\} icax854i1zq bx8dxizepxbjw99fvd227auu7$/,
    );
  });

  it('cuts the output at the byte cap and keeps the CLI exit status', () => {
    const path = fakeDocker('icax854i1zq\n', 1);
    const r = sh(networkViewSection({ networks: 64, bytes: 100, seconds: 10 }), path);
    const out = r.stdout.split('BEGIN host/network-views\n')[1]!.split('END ')[0]!;
    expect(out.length).toBeLessThanOrEqual(100);
    expect(r.stdout).toMatch(/END host\/network-views 1/);
  });

  it('says so when the node has no docker CLI', () => {
    const r = sh(networkViewSection(), `${tmp.dir}`);
    expect(r.stderr).toContain('docker: command not found');
    expect(r.stdout).toMatch(/END host\/network-views 127/);
  });
});

describe('the DNS plan', () => {
  const net = (id: string, extra = {}) => ({ id, driver: 'overlay', ingress: false, ...extra });
  it('asks each network for its services and their tasks, never ingress, never a name that is not a service name, at most the cap', () => {
    const services = [
      { name: 'web', networks: ['aaaaaaaaaaaa'], vips: [] },
      { name: 'db', networks: [], vips: [{ networkId: 'aaaaaaaaaaaa' }] },
      { name: 'x;touch /tmp/p', networks: ['aaaaaaaaaaaa'], vips: [] },
      ...Array.from({ length: 40 }, (_, i) => ({ name: `s${i}`, networks: ['bbbbbbbbbbbb'], vips: [] })),
    ];
    const plan = dnsPlan({ networks: [net('aaaaaaaaaaaa'), net('iiiiiiiiiiii', { ingress: true }), net('bbbbbbbbbbbb')], services });
    expect(plan[0]).toEqual({ prefix: 'aaaaaaaaa', names: ['web', 'tasks.web', 'db', 'tasks.db'] });
    expect(plan.map((p) => p.prefix)).toEqual(['aaaaaaaaa', 'bbbbbbbbb']);
    expect(plan.flatMap((p) => p.names)).toHaveLength(DNS_LIMITS.queries);
  });

  it("is one parseable sh block that gives the names to ask to lb_<prefix> sandboxes only (asked by the sandbox's own batch)", () => {
    const block = dnsSections([{ prefix: 'aaaaaaaaa', names: ['web', 'tasks.web', 'x;id'] }]);
    expect(spawnSync('/bin/sh', ['-n'], { input: block }).status).toBe(0);
    const names = (sb: string) => execFileSync('sh', ['-c', `${block}ndqnames ${sb}; printf '%s' "$NDQA"`], { encoding: 'utf8' });
    expect(names('lb_aaaaaaaaa')).toBe('web tasks.web');
    expect(names('lb_bbbbbbbbb')).toBe('');
    expect(names('1-aaaaaaaaa')).toBe('');
    expect(dnsSections([{ prefix: 'a;b', names: ['web'] }])).toBe('ndqnames() { NDQA=; }\n');
  });

  it('the sandbox batch asks the names it is given, in its lb sandbox only', () => {
    const bin = mkdtempSync(join(tmpdir(), 'nd-dns-'));
    try {
      // A bash that prints what it was asked to run (the resolver's own test is below).
      writeFileSync(join(bin, 'bash'), '#!/bin/sh\nshift 2; echo "$*"\n');
      chmodSync(join(bin, 'bash'), 0o755);
      const run = (sb: string, ...names: string[]) =>
        splitSections(
          execFileSync('sh', ['-c', sandboxBatch(), 'ndsb', '@@NDtest@@', sb, ...names], {
            encoding: 'utf8',
            env: { PATH: `${bin}:/usr/bin:/bin`, NDQ: 'unused' },
          }),
          '@@NDtest@@',
        ).sections;
      expect(run('lb_aaaaaaaaa', 'web', 'tasks.web')['netns/lb_aaaaaaaaa/dns']).toMatchObject({ stdout: 'ndq web tasks.web\n', rc: 0 });
      expect(run('lb_aaaaaaaaa')['netns/lb_aaaaaaaaa/dns']).toBeUndefined();
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });
});

/** A DNS server in wire format: web → one A, tasks.web → three, nosuch → NXDOMAIN, anything else → no answer. */
function dnsServer(): Promise<{ port: number; server: Socket }> {
  const server = createSocket('udp4');
  server.on('message', (q, from) => {
    let p = 12;
    const labels: string[] = [];
    while (q[p]! !== 0) {
      labels.push(q.subarray(p + 1, p + 1 + q[p]!).toString());
      p += q[p]! + 1;
    }
    const question = q.subarray(12, p + 5);
    const name = labels.join('.');
    const ips = name === 'web' ? ['10.0.1.2'] : name === 'tasks.web' ? ['10.0.1.3', '10.0.1.4', '10.0.1.5'] : name === 'nosuch' ? [] : null;
    if (ips === null) return;
    const head = Buffer.from([q[0]!, q[1]!, 0x81, ips.length ? 0x80 : 0x83, 0, 1, 0, ips.length, 0, 0, 0, 0]);
    const answers = ips.map((ip) => Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 2, 88, 0, 4, ...ip.split('.').map(Number)]));
    server.send(Buffer.concat([head, question, ...answers]), from.port, from.address);
  });
  return new Promise((resolve) => server.bind(0, '127.0.0.1', () => resolve({ port: server.address().port, server })));
}

const resolve = (port: number, names: string[]): Promise<string> =>
  new Promise((done) => {
    const prog = DNS_RESOLVER.replace('/dev/udp/127.0.0.11/53', `/dev/udp/127.0.0.1/${port}`);
    const child = spawn('bash', ['-c', prog, 'ndq', ...names]);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', () => done(out));
  });

describe.runIf(spawnSync('bash', ['-c', 'true']).status === 0)('the tiny resolver (bash /dev/udp, dd, od, awk)', () => {
  it('reads answers, NXDOMAIN and silence as docker-netdoctor parses them', async () => {
    const { port, server } = await dnsServer();
    try {
      const out = await resolve(port, ['web', 'tasks.web', 'nosuch', 'late']);
      expect(parseDnsAnswers(out).value).toEqual([
        { name: 'web', outcome: 'answer', rcode: 0, ips: ['10.0.1.2'] },
        { name: 'tasks.web', outcome: 'answer', rcode: 0, ips: ['10.0.1.3', '10.0.1.4', '10.0.1.5'] },
        { name: 'nosuch', outcome: 'answer', rcode: 3, ips: [] },
        { name: 'late', outcome: 'timeout', rcode: null, ips: [] },
      ]);
    } finally {
      server.close();
    }
  });

  it('gives up on a sandbox whose first queries all go unanswered, bounded in time', async () => {
    const { port, server } = await dnsServer();
    try {
      const t0 = Date.now();
      const out = await resolve(port, ['a', 'b', 'c', 'd', 'e', 'f']);
      expect(out.trim().split('\n')).toEqual(['a timeout', 'b timeout', 'c timeout', 'd skipped', 'e skipped', 'f skipped']);
      expect(Date.now() - t0).toBeLessThan(DNS_LIMITS.deadAfter * DNS_LIMITS.answerSec * 1000 + 2000);
      // As when the names went one by one: after deadAfter unanswered first names, the rest are skipped even if answered.
      expect((await resolve(port, ['a', 'b', 'c', 'web'])).trim().split('\n')).toEqual(['a timeout', 'b timeout', 'c timeout', 'web skipped']);
      expect((await resolve(port, ['a', 'web', 'b', 'c', 'd'])).trim().split('\n')).toEqual([
        'a timeout',
        'web rcode=0 10.0.1.2',
        'b timeout',
        'c timeout',
        'd timeout',
      ]);
    } finally {
      server.close();
    }
  });

  it('asks every name at once: one wait however many names, each answer matched to its name by id', async () => {
    const { port, server } = await dnsServer();
    try {
      const names = Array.from({ length: DNS_LIMITS.queries / 2 }, (_, i): string => (i % 2 ? 'tasks.web' : 'web')).concat('nosuch', 'late');
      const t0 = Date.now();
      const got = parseDnsAnswers(await resolve(port, names)).value;
      expect(Date.now() - t0).toBeLessThan(DNS_LIMITS.answerSec * 1000 + 1500);
      expect(got.map((a) => a.name)).toEqual(names);
      for (const a of got.slice(0, -2)) expect(a.ips).toEqual(a.name === 'web' ? ['10.0.1.2'] : ['10.0.1.3', '10.0.1.4', '10.0.1.5']);
      expect(got.slice(-2).map((a) => a.outcome)).toEqual(['answer', 'timeout']);
    } finally {
      server.close();
    }
  });
});
