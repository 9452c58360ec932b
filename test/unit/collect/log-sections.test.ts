/**
 * The log layer's node-side reads under a real sh: the docker log capped in
 * bytes after redaction, and the kernel lines filtered on the node (dmesg
 * here prints lines of the exact form kernels print, quoted from public
 * issue threads: kubernetes/kubernetes#71261, rtr7/router7#31).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, symlinkSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultLog } from '../../../src/collect/collect.js';
import { buildCollectScript, dockerLogSection, kernelLogSection, LOG_DEFAULTS } from '../../../src/collect/script.js';
import { tempDir } from '../bundle/helpers.js';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.cleanup());

const run = (script: string, env: NodeJS.ProcessEnv = process.env) =>
  spawnSync('/bin/sh', ['-s'], { input: `have() { command -v "$1" >/dev/null 2>&1; }\n${script}`, encoding: 'utf8', env, timeout: 20_000 });

describe('host/docker-log bounded in bytes', () => {
  it('cuts after redaction: at most `bytes` bytes, and no key in what is kept', () => {
    const f = `${tmp.dir}/docker.log`;
    const key = '0x3f1c9a0b7e2d4c5f8a9b0c1d2e3f4a5b6c7d8e9f';
    writeFileSync(
      f,
      Array.from(
        { length: 50 },
        (_, i) =>
          `time="2026-11-25T15:36:${String(i).padStart(2, '0')}Z" level=warning msg="Failed Adding fSA{Aead: {Name: rfc4106(gcm(aes)), Key: ${key}, ICVLen: 128}}"`,
      ).join('\n') + '\n',
    );
    const r = run(dockerLogSection({ lines: 1000, bytes: 300 }, { own: [f], syslog: [] }).replace('sec host/docker-log ndlog', 'ndlog'));
    expect(r.status).toBe(0);
    expect(Buffer.byteLength(r.stdout)).toBe(300);
    expect(r.stdout).not.toContain(key.slice(2, 20));
    expect(r.stdout).toContain('Failed Adding fSA');
  });
});

describe('host/kernel-log', () => {
  it('keeps only the table and vxlan lines of dmesg, at most `lines`, and finding none is no failure', () => {
    const bin = `${tmp.dir}/bin`;
    spawnSync('mkdir', [bin]);
    for (const t of ['grep', 'tail', 'sed', 'cat', 'awk'])
      symlinkSync(spawnSync('sh', ['-c', `command -v ${t}`], { encoding: 'utf8' }).stdout.trim(), `${bin}/${t}`);
    const dmesg = `${bin}/dmesg`;
    const lines = [
      '[843041.359054] neighbour: arp_cache: neighbor table overflow!',
      '[843041.360001] eth0: renamed from veth1a2b3c',
      '[843042.100000] nf_conntrack: table full, dropping packet',
      '[843043.000000] br0: port 2(veth9) entered forwarding state',
      '[843044.000000] nf_conntrack: table full, dropping packet',
    ];
    // vxlan lines: the kernel's own error (drivers/net/vxlan: "non-ECT from %pI4 with TOS=%#x") is kept,
    // a vxlan device's port changing state on br0 is not (hundreds of them on a lab node)
    const vxlanError = '[843045.000000] vxlan: non-ECT from 10.213.0.12 with TOS=0x2';
    const noise = ['[843046.000000] br0: port 1(vxlan0) entered disabled state', '[843046.000001] vxlan0: left promiscuous mode'];
    writeFileSync(dmesg, `#!/bin/sh\ncat <<'X'\n${[...lines, ...noise, vxlanError].join('\n')}\nX\n`);
    chmodSync(dmesg, 0o755);
    const all = kernelLogSection({ lines: 10 }).replace('sec host/kernel-log ndklog', 'ndklog');
    expect(run(all, { PATH: bin }).stdout.trim().split('\n')).toEqual([lines[0], lines[2], lines[4], vxlanError]);
    writeFileSync(dmesg, `#!/bin/sh\ncat <<'X'\n${lines.join('\n')}\nX\n`);
    const section = kernelLogSection({ lines: 2 }).replace('sec host/kernel-log ndklog', 'ndklog');
    // force the dmesg branch (a host may run systemd): journalctl is not on this PATH
    const r = run(section, { PATH: bin });
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual([lines[2], lines[4]]);
    writeFileSync(dmesg, "#!/bin/sh\necho '[1.0] eth0: link up'\n");
    const quiet = run(section, { PATH: bin });
    expect([quiet.status, quiet.stdout.trim()]).toEqual([0, '']);
    // dmesg refused (kernel.dmesg_restrict for a non-root user): its status and words, no line
    writeFileSync(dmesg, "#!/bin/sh\necho 'dmesg: read kernel buffer failed: Operation not permitted' >&2\nexit 1\n");
    const denied = run(section, { PATH: bin });
    expect([denied.status, denied.stdout.trim()]).toEqual([1, '']);
    expect(denied.stderr).toContain('Operation not permitted');
    // a matching line, then the failure: the line is kept, the status too
    writeFileSync(dmesg, `#!/bin/sh\necho '${lines[0]}'\nexit 3\n`);
    const partial = run(section, { PATH: bin });
    expect([partial.status, partial.stdout]).toEqual([3, `${lines[0]}\n`]);
  });
});

describe('host/kernel-log from dmesg within --since', () => {
  it('keeps the lines stamped from @since on (dmesg counts seconds since boot), and unstamped lines', () => {
    const bin = `${tmp.dir}/bin`;
    spawnSync('mkdir', [bin]);
    for (const t of ['grep', 'tail', 'sed', 'cat', 'awk', 'cut', 'date'])
      symlinkSync(spawnSync('sh', ['-c', `command -v ${t}`], { encoding: 'utf8' }).stdout.trim(), `${bin}/${t}`);
    const up = Number(spawnSync('cut', ['-d', ' ', '-f1', '/proc/uptime'], { encoding: 'utf8' }).stdout);
    const now = Math.floor(Date.now() / 1000);
    // an overflow two hours ago, one a minute ago, and a line without a stamp
    const old = `[${(up - 7200).toFixed(6)}] neighbour: arp_cache: neighbor table overflow!`;
    const recent = `[${(up - 60).toFixed(6)}] nf_conntrack: table full, dropping packet`;
    const bare = 'neighbour: arp_cache: neighbor table overflow!';
    writeFileSync(`${bin}/dmesg`, `#!/bin/sh\ncat <<'X'\n${[old, recent, bare].join('\n')}\nX\n`);
    chmodSync(`${bin}/dmesg`, 0o755);
    const section = kernelLogSection({ lines: 10, since: now - 3600 }).replace('sec host/kernel-log ndklog', 'ndklog');
    const r = run(section, { PATH: bin });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual([recent, bare]);
  });
});

describe('who reads the logs', () => {
  it('the kernel section goes with the docker log; collect and check read the last hour by default, bounded', () => {
    const s = buildCollectScript({ dataPathPort: 4789, dockerLog: { lines: 5, bytes: 1000, since: 1700000000 } }).script;
    expect(s).toContain('sec host/kernel-log ndklog');
    expect(s).toContain('journalctl -k -o short-iso --no-pager -q --since @1700000000');
    expect(s).toContain('| head -c 1000');
    expect(buildCollectScript({ dataPathPort: 4789 }).script).not.toContain('host/kernel-log');
    const d = defaultLog(1_800_000_000_000);
    expect(d).toEqual({ lines: LOG_DEFAULTS.lines, bytes: LOG_DEFAULTS.bytes, since: 1_800_000_000 - 3600 });
  });
});
