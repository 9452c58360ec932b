/**
 * The collection script's sandbox-level additions: `host/route-get` takes only
 * IP literals from the swarm and at most ROUTE_GET_MAX of them, the whole
 * script still parses with `sh -n`, and the section run for real on this
 * machine gives what parseRouteGet reads.
 */
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  buildCollectScript,
  IPT_SPLIT_MAX_BYTES,
  LB_SYSCTLS,
  ROUTE_GET_MAX,
  routeGetSection,
  sandboxBatch,
  underlayPeers,
} from '../../../src/collect/script.js';
import { splitSections } from '../../../src/collect/sections.js';
import { parseRouteGet } from '../../../src/parse/sandbox.js';
import { parseAddresses, parseLinks, parseNeigh } from '../../../src/parse/iproute.js';
import { labSnapshot, recordedNode } from '../../support/lab-fixtures.js';

describe('host/route-get', () => {
  it('passes IP literals only: a hostile address from the swarm never reaches the script', () => {
    const s = routeGetSection(['10.213.0.11', "10.0.0.1'; touch /tmp/pwned; '", '$(id)', '`id`', 'fe80::1', '10.213.0.11']);
    expect(s).toContain('sec host/route-get ndroutes 10.213.0.11 fe80::1\n');
    expect(s).not.toMatch(/pwned|\$\(id\)|`id`/);
    expect(routeGetSection([])).toBe('');
  });

  it('reads at most ROUTE_GET_MAX peers', () => {
    const many = Array.from({ length: 300 }, (_, i) => `10.${Math.floor(i / 250)}.${i % 250}.1`);
    const list = /sec host\/route-get ndroutes ([^\n]*)/.exec(routeGetSection(many))![1]!.split(' ');
    expect(list).toHaveLength(ROUTE_GET_MAX);
  });

  it("takes the swarm's node addresses and endpoint hosts, once each", () => {
    const c = labSnapshot().cluster;
    expect(underlayPeers(c).sort()).toEqual(['10.213.0.11', '10.213.0.12', '10.213.0.13']);
  });

  it('the whole script parses, and the section run here gives what the parser reads', () => {
    const { script, marker } = buildCollectScript({ dataPathPort: 4789, underlayPeers: ['127.0.0.1'], marker: '@@NDtest@@' });
    execFileSync('sh', ['-n'], { input: script });
    const prelude = `M='${marker}'\nexec 4>&1\nNL='\n'\n${/sec\(\) \{[\s\S]*?\n\}\n/.exec(script)![0]}have() { command -v "$1" >/dev/null 2>&1; }\n`;
    const out = execFileSync('sh', ['-s'], { input: `${prelude}${routeGetSection(['127.0.0.1'])}`, encoding: 'utf8' });
    const sec = splitSections(out, marker).sections['host/route-get']!;
    expect(sec.rc).toBe(0);
    expect(parseRouteGet(sec.stdout).items).toEqual([{ dst: '127.0.0.1', dev: 'lo', prefsrc: '127.0.0.1', type: 'local' }]);
  });
});

describe('one sh per sandbox (sandboxBatch)', () => {
  /** Runs the batch as `ndsandbox` does once inside the namespace, with readers that print their own command line. */
  function batch(sandbox: string): Record<string, { stdout: string; rc: number | null }> {
    const bin = mkdtempSync(join(tmpdir(), 'nd-batch-'));
    try {
      for (const tool of ['ip', 'bridge', 'iptables-save', 'ipvsadm']) {
        writeFileSync(join(bin, tool), `#!/bin/sh\necho "${tool} $*"\n`);
        chmodSync(join(bin, tool), 0o755);
      }
      const out = execFileSync('sh', ['-c', sandboxBatch(), 'ndsb', '@@NDtest@@', sandbox], {
        encoding: 'utf8',
        env: { PATH: `${bin}:/usr/bin:/bin` },
      });
      const { sections } = splitSections(out, '@@NDtest@@');
      return Object.fromEntries(
        Object.entries(sections).map(([k, v]) => [k.replace(`netns/${sandbox}/`, ''), { stdout: v.stdout.trim(), rc: v.rc }]),
      );
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  }

  it('reads what each kind of sandbox has, framed as the prelude frames every section', () => {
    expect(Object.keys(batch('0123456789ab'))).toEqual(['link', 'addr']);
    const overlay = batch('1-y2x3w4v5u6');
    expect(Object.keys(overlay)).toEqual(['link', 'addr', 'route', 'neigh', 'fdb']);
    expect(overlay.fdb).toEqual({ stdout: 'bridge -j fdb show', rc: 0 });
    // link and addr from one ip -d addr (the same objects, with the addresses)
    expect(overlay.link).toEqual({ stdout: 'ip -j -d addr show', rc: 0 });
    expect(overlay.addr).toEqual(overlay.link);
    const lb = batch('lb_y2x3w4v5u');
    expect(Object.keys(lb)).toEqual(['link', 'addr', 'route', 'neigh', 'iptables-mangle', 'iptables-nat', 'ipvs', 'sysctl', 'ipvs-timeout']);
    expect(lb['iptables-nat']!.stdout).toBe('iptables-save -t nat');
    expect(Object.keys(batch('ingress_sbox'))).toEqual(Object.keys(lb));
  });

  it('reads IPVS only where the kernel has it, and the sysctls with one grep', () => {
    const lb = batch('ingress_sbox');
    if (existsSync('/proc/net/ip_vs')) expect(lb.ipvs).toEqual({ stdout: 'ipvsadm -Ln', rc: 0 });
    else expect(lb.ipvs!.rc).toBe(3);
    const sysctl = Object.fromEntries(lb.sysctl!.stdout.split('\n').map((l) => l.split('=') as [string, string]));
    expect(Object.keys(sysctl).sort()).toEqual([...LB_SYSCTLS].sort());
    expect(sysctl['net/ipv4/ip_forward']).toBe(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim());
    if (!existsSync('/proc/sys/net/ipv4/vs')) expect(sysctl['net/ipv4/vs/conn_reuse_mode']).toBe('<absent>');
  });

  it('the script enters each sandbox once, overlay sandboxes first, and names one it cannot enter', () => {
    const { script } = buildCollectScript({ dataPathPort: 4789, marker: '@@NDtest@@' });
    const loops = [...script.matchAll(/^for S in \$NSLS; do (.*); done$/gm)].map((m) => m[1]!);
    // Two loops over the one list: libnetwork's overlay sandboxes (<epoch>-<network id>), then every other.
    expect(loops).toHaveLength(2);
    for (const loop of loops) expect(loop.match(/nsenter|ndsandbox/g)).toEqual(['ndsandbox']);
    expect(loops[0]).toMatch(/^case \$S in \[0-9\]\*-\*\) NSF=/);
    expect(loops[1]).toMatch(/^case \$S in \[0-9\]\*-\*\) ;; \*\) NSF=/);
    const order = (names: string[]) =>
      execFileSync(
        'sh',
        [
          '-c',
          `NSLS="${names.join('\n')}"; ndqnames() { NDQA=; }; ndsandbox() { echo "$1"; }; ${loops.map((l) => `for S in $NSLS; do ${l}; done`).join('\n')}`,
        ],
        {
          encoding: 'utf8',
        },
      );
    expect(order(['0da3e0a73909', '1-6d9tspckdy', '2-t76lzgw2x7', 'ingress_sbox', 'lb_t76lzgw2x', 'f3a9c0b1d2e4'])).toBe(
      '1-6d9tspckdy\n2-t76lzgw2x7\n0da3e0a73909\ningress_sbox\nlb_t76lzgw2x\nf3a9c0b1d2e4\n',
    );
    expect(script).toMatch(
      /ndsandbox\(\) \{ \$NSPFX nsenter --net="\$NSF" -- sh -c "\$NDSB" ndsb "\$M" "\$@" <\/dev\/null 2>\/dev\/null \|\| sec "netns\/\$1\/enter" nsrun true; \}/,
    );
  });
});

describe('ndipt: the mangle and nat tables of a sandbox from one iptables-save', () => {
  // The lab's recorded tables of a load-balancer sandbox, as iptables-save -t TABLE printed them.
  const rec = recordedNode('healthy', 'nd1').sections;
  const lb = Object.keys(rec)
    .find((k) => /^netns\/lb_[^/]+\/iptables-mangle$/.test(k))!
    .split('/')[1]!;
  const mangle = rec[`netns/${lb}/iptables-mangle`]!.stdout;
  const nat = rec[`netns/${lb}/iptables-nat`]!.stdout;
  const filter =
    '# Generated by iptables-save v1.8.9 (nf_tables) on Mon Nov 30 00:00:00 2026\n*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n# Completed on Mon Nov 30 00:00:00 2026\n';

  /** The batch in a sandbox named lb_x, with an iptables-save that prints ALL for every table and TABLE for -t TABLE. */
  function run(all: string, warn = ''): Record<string, { stdout: string; stderr: string; rc: number | null }> {
    const bin = mkdtempSync(join(tmpdir(), 'nd-ipt-'));
    try {
      writeFileSync(join(bin, 'all.txt'), all);
      const tool = `#!/bin/sh\n[ -n "${warn}" ] && echo "${warn}" >&2\ncase "$*" in "-t mangle") echo "table mangle" ;; "-t nat") echo "table nat" ;; *) cat "${bin}/all.txt" ;; esac\n`;
      writeFileSync(join(bin, 'iptables-save'), tool);
      chmodSync(join(bin, 'iptables-save'), 0o755);
      const out = execFileSync('sh', ['-c', sandboxBatch(), 'ndsb', '@@NDtest@@', 'lb_x'], {
        encoding: 'utf8',
        env: { PATH: `${bin}:/usr/bin:/bin` },
      });
      return splitSections(out, '@@NDtest@@').sections;
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  }

  it('gives each table exactly as its own iptables-save -t printed it', () => {
    const s = run(filter + mangle + nat);
    expect(s['netns/lb_x/iptables-mangle']).toEqual({ stdout: mangle, stderr: '', rc: 0 });
    expect(s['netns/lb_x/iptables-nat']).toEqual({ stdout: nat, stderr: '', rc: 0 });
  });

  it('reads each table by its own command when the dump is anything else', () => {
    const each = { 'netns/lb_x/iptables-mangle': 'table mangle\n', 'netns/lb_x/iptables-nat': 'table nat\n' };
    const got = (s: ReturnType<typeof run>) => ({
      'netns/lb_x/iptables-mangle': s['netns/lb_x/iptables-mangle']!.stdout,
      'netns/lb_x/iptables-nat': s['netns/lb_x/iptables-nat']!.stdout,
    });
    // a warning line, a block cut, a warning on stderr (held with stdout), a dump too long to join: both by their own commands
    expect(got(run(`${filter}${mangle}${nat}# Warning: iptables-legacy tables present, use iptables-legacy-save to see them\n`))).toEqual(each);
    // a table the dump lacks: that one by its own command
    expect(got(run(filter + mangle))).toEqual({ ...each, 'netns/lb_x/iptables-mangle': mangle });
    expect(got(run(filter + nat))).toEqual({ ...each, 'netns/lb_x/iptables-nat': nat });
    expect(got(run(mangle + nat.split('\n').slice(0, 3).join('\n')))).toEqual(each);
    expect(got(run(mangle + nat, 'Warning: Extension MARK revision 0 not supported, missing kernel module?'))).toEqual(each);
    const big = `${filter.replace('COMMIT', Array.from({ length: 2000 }, (_, i) => `-A INPUT -s 10.0.${i >> 8}.${i & 255}/32 -j ACCEPT`).join('\n') + '\nCOMMIT')}`;
    expect(big.length).toBeGreaterThan(IPT_SPLIT_MAX_BYTES);
    expect(got(run(big + mangle + nat))).toEqual(each);
  });
});

describe('ndsysctl', () => {
  it('reads whole values (dash would read /proc/sys byte by byte and get "1" of 1024) and marks missing keys', () => {
    const { script } = buildCollectScript({ dataPathPort: 4789, marker: '@@NDtest@@' });
    const fn = /\nndsysctl\(\) \{[\s\S]*?\n\}\n/.exec(script)![0];
    const out = execFileSync('sh', ['-c', `${fn}ndsysctl net/ipv4/neigh/default/gc_thresh3 net/ipv4/no_such_key net/ipv4/ip_forward`], {
      encoding: 'utf8',
    });
    const want = (k: string) => `${k}=${readFileSync(`/proc/sys/${k}`, 'utf8').trim()}`;
    expect(out.trim().split('\n').sort()).toEqual(
      [want('net/ipv4/neigh/default/gc_thresh3'), 'net/ipv4/no_such_key=<absent>', want('net/ipv4/ip_forward')].sort(),
    );
  });
});

describe('host/modules and host/unit-files without a process per item', () => {
  const { script } = buildCollectScript({ dataPathPort: 4789, marker: '@@NDtest@@' });
  const fn = (name: string) => new RegExp(`\\n${name}\\(\\) \\{[\\s\\S]*?\\n\\}\\n`).exec(script)![0];

  it('ndmodules: /sys/module first, then one read of /proc/modules', () => {
    // This machine's kernel may have no loadable modules at all (no /proc/modules).
    const loaded = existsSync('/proc/modules') ? readFileSync('/proc/modules', 'utf8').split('\n')[0]?.split(' ')[0] : undefined;
    const mods = ['kernel', 'nd_no_such_module', ...(loaded ? [loaded] : [])];
    const out = execFileSync('sh', ['-c', `NL='\n'\n${fn('ndmodules')}ndmodules ${mods.join(' ')}`], { encoding: 'utf8' });
    expect(out.trim().split('\n')).toEqual(['kernel present', 'nd_no_such_module absent', ...(loaded ? [`${loaded} present`] : [])]);
  });

  it('ndunits: each unit file that exists as "# FILE" and its MountFlags/ExecStart lines', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nd-units-'));
    try {
      writeFileSync(join(dir, 'a.service'), '[Service]\nExecStart=/usr/bin/dockerd -H fd://\n  MountFlags=slave\nRestart=always\n');
      writeFileSync(join(dir, 'b.conf'), '[Service]\nEnvironment=X=1\n');
      const body = fn('ndunits').replace(/for f in [^;]*;/, `for f in ${dir}/a.service ${dir}/missing.service ${dir}/b.conf;`);
      const out = execFileSync('sh', ['-c', `${body}ndunits`], { encoding: 'utf8' });
      expect(out).toBe(`# ${dir}/a.service\nExecStart=/usr/bin/dockerd -H fd://\n  MountFlags=slave\n# ${dir}/b.conf\n`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('no pattern that dash matches in quadratic time on a long text', () => {
  it('no ${X##*NL} anywhere, and ${X#*NL} only on the text that starts with /version', () => {
    const { script } = buildCollectScript({
      dataPathPort: 4789,
      marker: '@@NDtest@@',
      dns: [{ prefix: 'aaaaaaaaa', names: ['web'] }],
      overlayIds: ['abc'],
    });
    const all = script + sandboxBatch();
    expect(all).not.toMatch(/\$\{[A-Za-z_0-9]+##\*"\$NL"/);
    expect(all.match(/\$\{[A-Za-z_0-9]+#\*"\$NL"\}/g)).toEqual(['${m#*"$NL"}']);
  });
});

describe('ndlinkaddr', () => {
  it('one ip -d addr gives link and addr; the link parser reads it as it reads ip -d link', () => {
    const { script } = buildCollectScript({ dataPathPort: 4789, marker: '@@NDtest@@' });
    const fn = (name: string) => new RegExp(`\\n${name}\\(\\) \\{[\\s\\S]*?\\n\\}\\n`).exec(script)![0];
    const out = execFileSync(
      'sh',
      ['-c', `M=@@NDtest@@\nNL='\n'\nexec 4>&1\n${fn('sec')}${fn('secout')}${fn('ndip3')}${fn('ndlinkaddr')}ndlinkaddr host`],
      {
        encoding: 'utf8',
      },
    );
    const { sections } = splitSections(out, '@@NDtest@@');
    const link = sections['host/link']!;
    expect(link.rc).toBe(0);
    expect(sections['host/addr']!.stdout).toBe(link.stdout);
    const own = parseLinks(execFileSync('ip', ['-j', '-d', 'link', 'show'], { encoding: 'utf8' })).items;
    const fromAddr = parseLinks(link.stdout).items;
    expect(fromAddr).toEqual(own);
  });

  it('with all, route and neigh come from the same ip (-batch): what the parsers read is what their own commands give', () => {
    const { script } = buildCollectScript({ dataPathPort: 4789, marker: '@@NDtest@@' });
    const fn = (name: string) => new RegExp(`\\n${name}\\(\\) \\{[\\s\\S]*?\\n\\}\\n`).exec(script)![0];
    const run = (tools: string) =>
      splitSections(
        execFileSync(
          'sh',
          ['-c', `M=@@NDtest@@\nNL='\n'\nexec 4>&1\n${fn('sec')}${fn('secout')}${fn('ndip3')}${fn('ndlinkaddr')}ndlinkaddr nsx all`],
          {
            encoding: 'utf8',
            env: { PATH: tools },
          },
        ),
        '@@NDtest@@',
      ).sections;
    const batched = run(process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin');
    expect(Object.keys(batched)).toEqual(['nsx/link', 'nsx/addr', 'nsx/route', 'nsx/neigh']);
    for (const s of Object.values(batched)) expect(s.rc).toBe(0);
    const own = (...args: string[]) => execFileSync('ip', ['-j', ...args], { encoding: 'utf8' });
    expect(parseLinks(batched['nsx/link']!.stdout).items).toEqual(parseLinks(own('-d', 'link', 'show')).items);
    expect(parseAddresses(batched['nsx/addr']!.stdout).items).toEqual(parseAddresses(own('addr', 'show')).items);
    expect(parseNeigh(batched['nsx/neigh']!.stdout).items).toEqual(parseNeigh(own('neigh', 'show')).items);
    // Routes gain -d's fields (type, protocol, scope); the rest is as ip -j route shows it.
    const pick = (t: string) => (JSON.parse(t) as { dst: string; dev?: string; gateway?: string }[]).map((r) => [r.dst, r.dev, r.gateway]);
    expect(pick(batched['nsx/route']!.stdout)).toEqual(pick(own('route', 'show')));
    // …which shows that they came from the batch (-d), not from the fallback.
    for (const r of JSON.parse(batched['nsx/route']!.stdout) as object[]) expect(r).toHaveProperty('type');
    // An ip without a working -batch: each section from its own command, as before.
    const bin = mkdtempSync(join(tmpdir(), 'nd-ipb-'));
    try {
      writeFileSync(
        join(bin, 'ip'),
        `#!/bin/sh\ncase "$*" in *-batch*) echo "Command line is not complete" >&2; exit 1 ;; esac\necho "[\\"ip $*\\"]"\n`,
      );
      chmodSync(join(bin, 'ip'), 0o755);
      const each = run(`${bin}:/usr/bin:/bin`);
      expect(Object.fromEntries(Object.entries(each).map(([k, v]) => [k, v.stdout.trim()]))).toEqual({
        'nsx/link': '["ip -j -d addr show"]',
        'nsx/addr': '["ip -j -d addr show"]',
        'nsx/route': '["ip -j route show"]',
        'nsx/neigh': '["ip -j neigh show"]',
      });
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });
});

describe("dockerd's command line, read once", () => {
  it('gives the API socket (first unix:// of -H/--host) and the exec root (--exec-root), in any spelling', () => {
    const { script } = buildCollectScript({ dataPathPort: 4789, marker: '@@NDtest@@' });
    const block = /\nDSOCK=\/var\/run\/docker\.sock; NDROOT=; NDCMDL=\n[\s\S]*?\nfi\n/.exec(script)![0];
    const read = (args: string[], what = '$DSOCK|$NDROOT') => {
      const fake = spawn('sh', ['-c', 'sleep 5', 'dockerd', ...args], { stdio: 'ignore' });
      try {
        return execFileSync('sh', ['-c', `NL='\n'\nDPID=${fake.pid}\n${block}echo "${what}"`], { encoding: 'utf8' }).trim();
      } finally {
        fake.kill();
      }
    };
    expect(read(['-H', 'fd://', '-H', 'unix:///run/a.sock', '--host=unix:///run/b.sock', '--exec-root', '/run/dx'])).toBe('/run/a.sock|/run/dx');
    expect(read(['--host=unix:///run/b.sock', '--exec-root=/var/run/docker2'])).toBe('/run/b.sock|/var/run/docker2');
    expect(read(['-H', 'tcp://0.0.0.0:2376'])).toBe('/var/run/docker.sock|');
    // The same awk joins the line host/dockerd-cmdline prints, every --log-opt value cut.
    expect(read(['-H', 'unix:///run/a.sock', '--log-opt', 'splunk-token=T0K EN', '--log-opt=tag=x', '--debug'], '$NDCMDL')).toBe(
      'sh -c sleep 5 dockerd -H unix:///run/a.sock --log-opt splunk-token=<redacted> --log-opt=tag=<redacted> --debug',
    );
  });
});
