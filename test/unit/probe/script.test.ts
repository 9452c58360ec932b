import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  buildCaptureScript,
  buildCaptureStopScript,
  buildSenderScript,
  parseCaptures,
  parseCaptureStats,
  parseProbeLines,
} from '../../../src/probe/script.js';
import { dataPathTargets, planNode } from '../../../src/probe/run.js';
import { labSnapshot } from '../../support/lab-fixtures.js';

const snapshot = labSnapshot('healthy');
const peers = [
  { name: 'nd1', ip: '10.213.0.11', manager: true },
  { name: 'nd3', ip: '10.213.0.13', manager: false },
];

describe('probe planning from a lab snapshot', () => {
  const nd2 = snapshot.nodes.find((n) => n.name === 'nd2')!;
  it('probes gossip on every peer, 2377 on managers, UDP on gossip and data-path ports, MTU = overlay + 50', () => {
    const p = planNode(snapshot, nd2, peers, { timeoutSec: 2 });
    expect(p.tcp).toEqual([
      { ip: '10.213.0.11', port: 7946 },
      { ip: '10.213.0.11', port: 2377 },
      { ip: '10.213.0.13', port: 7946 },
    ]);
    expect(p.udp).toContainEqual({ ip: '10.213.0.13', port: 4789 });
    expect(p.mtu).toContainEqual({ ip: '10.213.0.11', payload: 1450 + 50 - 28 });
    expect(p.netnsDir).toBe('/var/run/docker/netns');
    expect(p.viaDockerdMountNs).toBe(false);
  });

  it('pings a task on each peer from the lb sandbox (overlays) and ingress_sbox (ingress)', () => {
    const t = dataPathTargets(snapshot, nd2, peers);
    const ndnet = t.filter((x) => x.network === 'ndnet');
    expect(ndnet.map((x) => x.peer).sort()).toEqual(['nd1', 'nd3']);
    expect(ndnet.every((x) => x.sandbox.startsWith('lb_'))).toBe(true);
    expect(ndnet.find((x) => x.peer === 'nd3')!.ip).toBe('10.0.1.4');
    expect(t.filter((x) => x.network === 'ingress').every((x) => x.sandbox === 'ingress_sbox')).toBe(true);
    expect(ndnet[0]!.payload).toBe(1450 - 28);
  });

  it("without the vxlan link, sizes the ping from the network's mtu option less VXLAN's 50 bytes (docker's rule)", () => {
    const s = structuredClone(snapshot);
    s.cluster.networks.find((n) => n.name === 'ndnet')!.mtu = 1400;
    const me = s.nodes.find((n) => n.name === nd2.name)!;
    for (const sb of me.sandboxes) if (sb.kind === 'overlay') sb.links = sb.links.filter((l) => l.kind !== 'vxlan');
    const ndnet = dataPathTargets(s, me, peers).filter((x) => x.network === 'ndnet');
    expect(ndnet.map((x) => x.payload)).toEqual([1400 - 50 - 28, 1400 - 50 - 28]);
  });

  it('refuses to put anything but addresses and sandbox names into the script', () => {
    expect(() =>
      buildSenderScript({
        tcp: [{ ip: '1.2.3.4; rm -rf /', port: 1 }],
        udp: [],
        mtu: [],
        dataPath: [],
        netnsDir: '/x',
        viaDockerdMountNs: false,
        timeoutSec: 1,
      }),
    ).toThrow(/not an IP/);
  });
});

describe('probe scripts under a real sh', () => {
  it('the sender reports every planned probe and ends with DONE (loopback: tcp refused, udp sent, DF ping ok; too big: fails, then the small ping)', () => {
    const script = buildSenderScript({
      tcp: [{ ip: '127.0.0.1', port: 1 }],
      udp: [{ ip: '127.0.0.1', port: 9 }],
      mtu: [
        { ip: '127.0.0.1', payload: 1000 },
        // Above loopback's 65536 MTU: the DF ping fails, so the small ping runs to tell why.
        { ip: '127.0.0.1', payload: 65600 },
      ],
      dataPath: [],
      netnsDir: '/var/run/docker/netns',
      viaDockerdMountNs: false,
      timeoutSec: 1,
    });
    const r = spawnSync('sh', ['-s'], { input: script, encoding: 'utf8', timeout: 20_000 });
    const parsed = parseProbeLines(r.stdout);
    expect(parsed.done).toBe(true);
    const kinds = parsed.lines.map((l) => l.kind).sort();
    expect(kinds).toEqual(['B', 'P', 'P', 'T', 'U']);
    expect(parsed.lines.find((l) => l.kind === 'T')!.fields).toEqual(['127.0.0.1', '1', '1']);
    expect(parsed.lines.find((l) => l.kind === 'P' && l.fields[1] === '1000')!.fields.slice(0, 3)).toEqual(['127.0.0.1', '1000', '0']);
    expect(parsed.lines.find((l) => l.kind === 'P' && l.fields[1] === '65600')!.fields[2]).not.toBe('0');
    expect(parsed.lines.find((l) => l.kind === 'B')!.fields).toEqual(['127.0.0.1', '0']);
  });

  it('a DF ping with no answer while the small ping answers is tried once more (a busy node, not an MTU); an MTU error is not', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nd-ping-'));
    try {
      // ping stand-in: the first DF ping to each address gets no answer (as ping prints it), every other ping passes;
      // to 10.9.9.9 every DF ping fails with the local MTU error ping prints.
      const fake = [
        '#!/bin/sh',
        'for a; do ip=$a; done',
        'case " $* " in *" -M do "*) ;; *) exit 0 ;; esac',
        `[ "$ip" = 10.9.9.9 ] && { echo 'ping: local error: message too long, mtu=1400'; exit 1; }`,
        `[ -e "${dir}/df-$ip" ] && exit 0`,
        `touch "${dir}/df-$ip"; echo '1 packets transmitted, 0 received, 100% packet loss, time 0ms'; exit 1`,
      ].join('\n');
      writeFileSync(join(dir, 'ping'), `${fake}\n`, { mode: 0o755 });
      const script = buildSenderScript({
        tcp: [],
        udp: [],
        mtu: [
          { ip: '10.1.1.1', payload: 1422 },
          { ip: '10.9.9.9', payload: 1422 },
        ],
        dataPath: [],
        netnsDir: '/x',
        viaDockerdMountNs: false,
        timeoutSec: 1,
      }).replace('export LC_ALL=C PATH="', `export LC_ALL=C PATH="${dir}:`);
      const lines = parseProbeLines(spawnSync('sh', ['-s'], { input: script, encoding: 'utf8', timeout: 20_000 }).stdout).lines;
      const p = (ip: string) => lines.find((l) => l.kind === 'P' && l.fields[0] === ip)!.fields;
      expect(p('10.1.1.1').slice(0, 3)).toEqual(['10.1.1.1', '1422', '0']);
      expect(p('10.9.9.9').join(' ')).toBe('10.9.9.9 1422 1 message too long, mtu=1400');
      expect(
        lines
          .filter((l) => l.kind === 'B')
          .map((l) => l.fields.join(' '))
          .sort(),
      ).toEqual(['10.1.1.1 0', '10.9.9.9 0']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the capture filter matches only our magic payload and names source, destination and port', () => {
    expect(buildCaptureScript([7946, 4789, 7946], 3)).toContain(
      "-s 128 -B 4096 'inbound and udp and (dst port 7946 or dst port 4789) and udp[8:4] = 0x4e445052'",
    );
    expect(parseCaptures('C 10.213.0.11 10.213.0.12 4789\nnoise\nC 10.213.0.13 10.213.0.12 7946\n')).toEqual([
      { src: '10.213.0.11', dst: '10.213.0.12', port: 4789 },
      { src: '10.213.0.13', dst: '10.213.0.12', port: 7946 },
    ]);
    expect(parseProbeLines('NOTCPDUMP\n').noTcpdump).toBe(true);
  });
});

describe('the capture stops when the count is in', () => {
  // Lines of the exact form tcpdump -i any -n -l -q prints (recorded on this machine).
  const recordedTcpdump = readFileSync(new URL('../../fixtures/lab/probes/tcpdump-any-q.txt', import.meta.url), 'utf8');
  const header = recordedTcpdump.split('\n').filter((l) => l.startsWith('tcpdump:') || l.startsWith('listening on'));
  const datagram = recordedTcpdump.split('\n').find((l) => l.includes(' IP 127.0.0.1.41237 > 127.0.0.1.7946:'))!;
  const from = (src: string, port: number) => datagram.replace('127.0.0.1.41237 > 127.0.0.1.7946', `${src}.41237 > 10.213.0.12.${port}`);

  /** Run the capture script with `tcpdump` on PATH replaced by a program that prints `lines` then waits (as tcpdump does). */
  function captureWith(lines: string[], expect: { src: string; port: number }[], seconds: number) {
    const dir = mkdtempSync(join(tmpdir(), 'nd-capture-'));
    try {
      const body = lines.map((l) => `printf '%s\\n' '${l.replace(/'/g, `'\\''`)}'`).join('\n');
      writeFileSync(join(dir, 'tcpdump'), `#!/bin/sh\n${body}\nexec sleep 30\n`, { mode: 0o755 });
      const script = buildCaptureScript([7946, 4789], seconds, expect).replace('export LC_ALL=C PATH="', `export LC_ALL=C PATH="${dir}:`);
      const t = performance.now();
      const r = spawnSync('sh', ['-s'], { input: script, encoding: 'utf8', timeout: 20_000 });
      return { out: r.stdout, ms: performance.now() - t };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  const expected = [
    { src: '10.213.0.11', port: 7946 },
    { src: '10.213.0.11', port: 4789 },
    { src: '10.213.0.13', port: 7946 },
    { src: '10.213.0.13', port: 4789 },
  ];

  it('READY once tcpdump listens; COMPLETE and done at once when every sender was seen on every port', () => {
    const r = captureWith(
      [
        ...header,
        from('10.213.0.11', 7946),
        from('10.213.0.11', 7946),
        from('10.213.0.13', 4789),
        from('10.213.0.11', 4789),
        from('10.213.0.13', 7946),
      ],
      expected,
      5,
    );
    const p = parseProbeLines(r.out);
    const [first, second] = r.out.split('\n');
    expect(first).toMatch(/^PID \d+$/);
    expect(second).toBe('READY');
    expect(p.complete).toBe(true);
    expect(p.done).toBe(true);
    expect(parseCaptures(r.out)).toContainEqual({ src: '10.213.0.13', dst: '10.213.0.12', port: 4789 });
    expect(r.ms).toBeLessThan(4000);
  });

  it('duplicates and unexpected sources do not count: without one expected datagram it waits out the window', () => {
    const r = captureWith(
      [
        ...header,
        from('10.213.0.11', 7946),
        from('10.213.0.11', 7946),
        from('10.213.0.11', 4789),
        from('10.213.0.99', 7946),
        from('10.213.0.13', 7946),
      ],
      expected,
      1,
    );
    const p = parseProbeLines(r.out);
    expect(p.complete).toBe(false);
    expect(p.done).toBe(true);
    // Each source and port once: 10.213.0.11/7946 came twice.
    expect(parseCaptures(r.out)).toHaveLength(4);
    expect(r.ms).toBeGreaterThanOrEqual(900);
  });

  it("stopped before its count is in, it reports tcpdump's own counts (the exit lines recorded on this machine)", () => {
    const stats = recordedTcpdump.split('\n').filter((l) => /packets? (captured|received by filter|dropped by kernel)$/.test(l));
    expect(stats).toHaveLength(3);
    const dir = mkdtempSync(join(tmpdir(), 'nd-capture-'));
    try {
      // As tcpdump does: the counts go to stderr when it is stopped (here by the capture's own `timeout`).
      const counts = stats.map((l) => `"${l}"`).join(' ');
      const body = [...header, from('10.213.0.11', 7946)].map((l) => `printf '%s\\n' '${l}'`).join('\n');
      writeFileSync(join(dir, 'tcpdump'), `#!/bin/sh\ntrap 'printf "%s\\n" "" ${counts} >&2; exit 0' TERM\n${body}\nsleep 30 & wait\n`, {
        mode: 0o755,
      });
      const script = buildCaptureScript([7946, 4789], 1, expected).replace('export LC_ALL=C PATH="', `export LC_ALL=C PATH="${dir}:`);
      const r = spawnSync('sh', ['-s'], { input: script, encoding: 'utf8', timeout: 20_000 });
      expect(parseProbeLines(r.stdout).complete).toBe(false);
      expect(parseCaptureStats(r.stdout)).toEqual({ captured: 2, received: 4, dropped: 0 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(parseCaptureStats('READY\nC 10.213.0.11 10.213.0.12 7946\nDONE\n')).toBeNull();
  });

  it('the stop command signals only a pid that is still a capture, and takes nothing but a pid', () => {
    expect(buildCaptureStopScript(6856)).toBe('case "$(cat /proc/6856/comm 2>/dev/null)" in timeout|tcpdump) kill 6856 2>/dev/null ;; esac; true\n');
    for (const bad of [0, 1, -5, 1.5, Number.NaN]) expect(() => buildCaptureStopScript(bad)).toThrow(/not a capture pid/);
    // A live process that is not a capture is left alone.
    const r = spawnSync(
      'sh',
      ['-c', `sleep 5 & p=$!; sh -c "$(printf '%s' "$0" | sed "s/4242/$p/g")"; kill -0 $p && echo alive; kill $p`, buildCaptureStopScript(4242)],
      { encoding: 'utf8', timeout: 10_000 },
    );
    expect(r.stdout.trim()).toBe('alive');
  });

  it.skipIf(process.getuid?.() !== 0 || spawnSync('sh', ['-c', 'command -v tcpdump']).status !== 0)(
    "with the real tcpdump (root): the sender's datagrams on loopback complete the count",
    async () => {
      const script = buildCaptureScript([7946, 4789], 5, [
        { src: '127.0.0.1', port: 7946 },
        { src: '127.0.0.1', port: 4789 },
      ]);
      const child = spawn('sh', ['-s'], { stdio: ['pipe', 'pipe', 'ignore'] });
      let out = '';
      const ready = new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => ((out += d.toString()), /READY/.test(out) && resolve())));
      const ended = new Promise<void>((resolve) => child.on('close', () => resolve()));
      child.stdin.end(script);
      const t = performance.now();
      await ready;
      const sender = buildSenderScript({
        tcp: [],
        udp: [
          { ip: '127.0.0.1', port: 7946 },
          { ip: '127.0.0.1', port: 4789 },
        ],
        mtu: [],
        dataPath: [],
        netnsDir: '/x',
        viaDockerdMountNs: false,
        timeoutSec: 1,
      });
      spawnSync('sh', ['-s'], { input: sender, encoding: 'utf8', timeout: 10_000 });
      await ended;
      expect(parseProbeLines(out).complete).toBe(true);
      expect(performance.now() - t).toBeLessThan(4000);
    },
  );
});

describe('the ESP probe (IP protocol 50, encrypted overlays)', () => {
  const espPlan = (ips: string[], spi = 167) => ({
    tcp: [],
    udp: [],
    mtu: [],
    dataPath: [],
    esp: { spi, ips },
    netnsDir: '/x',
    viaDockerdMountNs: false,
    timeoutSec: 1,
  });
  /** Run a sender script with `dir` first on its PATH (or as its whole PATH). */
  const runWith = (script: string, dir: string, only = false) =>
    spawnSync('sh', ['-s'], {
      input: only
        ? script.replace(/export LC_ALL=C PATH="[^"\n]*"/, `export LC_ALL=C PATH="${dir}"`)
        : script.replace('export LC_ALL=C PATH="', `export LC_ALL=C PATH="${dir}:`),
      encoding: 'utf8',
      timeout: 20_000,
    }).stdout;

  it('the sender writes ESP from one process, after UDP, and takes only IPv4 addresses and an SPI from the reserved 1..255', () => {
    const s = buildSenderScript(espPlan(['10.213.0.11', '10.213.0.13']));
    expect(s).toContain('\nesp 167 10.213.0.11 10.213.0.13 &\n');
    expect(s).toContain("perl -MSocket -e 'my ($spi, @ips) = @ARGV;");
    expect(s).toContain('SOCK_RAW, 50)');
    expect(s.indexOf('esp 167')).toBeLessThan(s.indexOf('wait\necho DONE'));
    expect(() => buildSenderScript(espPlan(['10.0.0.1; reboot']))).toThrow(/not an IPv4/);
    expect(() => buildSenderScript(espPlan(['fd00::1']))).toThrow(/not an IPv4/);
    for (const spi of [0, 256, 1.5, 0x4e445052]) expect(() => buildSenderScript(espPlan(['10.0.0.1'], spi))).toThrow(/not a probe SPI/);
    // No ESP planned: the script is what it was (no esp function at all).
    expect(buildSenderScript({ ...espPlan([]), esp: undefined })).not.toContain('esp()');
  });

  it('the capture adds our SPI and payload to the same tcpdump filter, only when ESP is expected', () => {
    const s = buildCaptureScript([7946, 4789], 3, [{ src: '10.213.0.11', port: 'esp' }], 167);
    expect(s).toContain(
      "'inbound and ((udp and (dst port 7946 or dst port 4789) and udp[8:4] = 0x4e445052) or (ip proto 50 and ip[20:4] = 167 and ip[28:4] = 0x4e445052))'",
    );
    expect(s).toContain("WANT=' 10.213.0.11/esp '");
    expect(s.match(/tcpdump -i any/g)).toHaveLength(1);
    expect(buildCaptureScript([7946, 4789], 3, [])).toContain("'inbound and udp and (dst port 7946 or dst port 4789) and udp[8:4] = 0x4e445052'");
    expect(() => buildCaptureScript([4789], 3, [], 999)).toThrow(/not a probe SPI/);
    expect(parseCaptures('C 10.213.0.11 10.213.0.12 esp\nC 10.213.0.11 10.213.0.12 4789\n')).toEqual([
      { src: '10.213.0.11', dst: '10.213.0.12', port: 'esp' },
      { src: '10.213.0.11', dst: '10.213.0.12', port: 4789 },
    ]);
  });

  it("reads tcpdump's ESP lines (recorded on this machine) as `C <src> <dst> esp`, and completes with the UDP ones", () => {
    const esp = readFileSync(new URL('../../fixtures/lab/probes/tcpdump-any-q-esp.txt', import.meta.url), 'utf8').split('\n');
    const udp = readFileSync(new URL('../../fixtures/lab/probes/tcpdump-any-q.txt', import.meta.url), 'utf8')
      .split('\n')
      .find((l) => l.includes(' IP 127.0.0.1.41237 > 127.0.0.1.7946:'))!
      .replace('127.0.0.1.41237 > 127.0.0.1.7946', '10.99.0.1.41237 > 10.99.0.2.7946');
    const lines = [...esp.slice(0, 5), udp];
    const dir = mkdtempSync(join(tmpdir(), 'nd-capture-'));
    try {
      const body = lines.map((l) => `printf '%s\\n' '${l}'`).join('\n');
      writeFileSync(join(dir, 'tcpdump'), `#!/bin/sh\n${body}\nexec sleep 30\n`, { mode: 0o755 });
      const expect2 = [
        { src: '10.99.0.1', port: 'esp' as const },
        { src: '10.99.0.1', port: 7946 },
      ];
      const script = buildCaptureScript([7946], 5, expect2, 167).replace('export LC_ALL=C PATH="', `export LC_ALL=C PATH="${dir}:`);
      const out = spawnSync('sh', ['-s'], { input: script, encoding: 'utf8', timeout: 20_000 }).stdout;
      expect(parseCaptures(out)).toEqual([
        { src: '10.99.0.1', dst: '10.99.0.2', port: 'esp' },
        { src: '10.99.0.1', dst: '10.99.0.2', port: 7946 },
      ]);
      expect(parseProbeLines(out).complete).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('falls back to python3 without perl, and says so for each address when neither exists', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nd-esp-'));
    try {
      // A perl without its Socket module, as `perl -MSocket` fails there.
      writeFileSync(join(dir, 'perl'), '#!/bin/sh\necho "Can\'t locate Socket.pm in @INC" >&2; exit 2\n', { mode: 0o755 });
      const script = buildSenderScript(espPlan(['127.0.0.1', '127.0.0.2']));
      const py = parseProbeLines(runWith(script, dir)).lines.filter((l) => l.kind === 'E');
      const root = process.getuid?.() === 0;
      // As root the raw socket opens and both sends pass; otherwise python3 says why it could not open one.
      expect(py.map((l) => l.fields.slice(0, 3).join(' '))).toEqual(
        root ? ['127.0.0.1 0 python3', '127.0.0.2 0 python3'] : ['127.0.0.1 1 python3', '127.0.0.2 1 python3'],
      );
      if (!root) expect(py[0]!.fields.slice(3).join(' ')).toBe('socket: Operation not permitted');
      const none = parseProbeLines(runWith(script, dir, true)).lines.filter((l) => l.kind === 'E');
      expect(none.map((l) => l.fields.join(' '))).toEqual(['127.0.0.1 127 -', '127.0.0.2 127 -']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(process.getuid?.() !== 0 || spawnSync('sh', ['-c', 'command -v tcpdump && command -v perl']).status !== 0)(
    "with the real tcpdump and perl (root): the sender's ESP on loopback completes the count",
    async () => {
      const script = buildCaptureScript([7946], 5, [{ src: '127.0.0.1', port: 'esp' }], 201);
      const child = spawn('sh', ['-s'], { stdio: ['pipe', 'pipe', 'ignore'] });
      let out = '';
      const ready = new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => ((out += d.toString()), /READY/.test(out) && resolve())));
      const ended = new Promise<void>((resolve) => child.on('close', () => resolve()));
      child.stdin.end(script);
      await ready;
      const sent = spawnSync('sh', ['-s'], { input: buildSenderScript(espPlan(['127.0.0.1'], 201)), encoding: 'utf8', timeout: 10_000 }).stdout;
      expect(parseProbeLines(sent).lines.find((l) => l.kind === 'E')!.fields).toEqual(['127.0.0.1', '0', 'perl']);
      await ended;
      expect(parseCaptures(out)).toEqual([{ src: '127.0.0.1', dst: '127.0.0.1', port: 'esp' }]);
      expect(parseProbeLines(out).complete).toBe(true);
    },
  );
});
