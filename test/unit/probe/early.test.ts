/**
 * Probes started alongside the collection (run.ts startEarlyProbes): planned
 * from the manager's view before any node is collected, kept only when the
 * collected snapshot plans exactly the same probes. On every recorded lab
 * scenario the two plans agree; each way they can differ makes the run
 * probe again.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { probeNodeFromFacts, probeNodeOf } from '../../../src/probe/plan.js';
import { confirmEarly, earlyProbes, layoutProbes, type EarlyProbes, type ProbeLayout } from '../../../src/probe/run.js';
import { buildSenderScript, parseProbeLines, type SenderPlan } from '../../../src/probe/script.js';
import type { SenderRun } from '../../../src/probe/verdict.js';
import type { SshSession } from '../../../src/ssh/session.js';
import type { ClusterSnapshot } from '../../../src/snapshot/types.js';
import { labSnapshot } from '../../support/lab-fixtures.js';

const O = { timeoutSec: 2 };
const SPI = 4242;

/** Recorded lab scenarios with a manager view and all three nodes. */
const scenarios = readdirSync(new URL('../../fixtures/lab/', import.meta.url), { withFileTypes: true })
  .filter((d) => d.isDirectory() && readdirSync(new URL(`../../fixtures/lab/${d.name}/`, import.meta.url)).includes('nd3.txt'))
  .map((d) => d.name)
  .sort();

const earlyLayout = (s: ClusterSnapshot): ProbeLayout =>
  layoutProbes(
    s.cluster,
    s.nodes.map((n) => probeNodeFromFacts(s.cluster, n.name)),
    O,
    SPI,
    [],
  );
const lateLayout = (s: ClusterSnapshot): ProbeLayout =>
  layoutProbes(
    s.cluster,
    s.nodes.map((n) => probeNodeOf(s, n)),
    O,
    SPI,
    [],
  );
const withoutNetns = (p: SenderPlan) => ({ ...p, netnsDir: undefined, viaDockerdMountNs: undefined });

/** Sessions as confirmEarly sees them: which nodes have one. */
const sessionsOf = (names: string[]) => new Map(names.map((n) => [n, {} as SshSession]));

/** An early run whose senders printed `N <dir> <access>` (and nothing else), as a real sender on that node would have. */
function earlyRun(s: ClusterSnapshot, netns: (node: string) => string = () => 'N /var/run/docker/netns direct'): EarlyProbes {
  const layout = earlyLayout(s);
  const senders: SenderRun[] = layout.probers.map((n) => ({
    node: n.name,
    peers: layout.all.filter((p) => p.name !== n.name),
    plan: layout.plans.get(n.name)!,
    output: { ok: true, text: `${netns(n.name)}\nDONE\n` },
  }));
  const observed = Promise.resolve({
    startedAt: '2026-11-29T00:00:00.000Z',
    durationMs: 2100,
    timeoutSec: 2,
    captureSec: 25,
    pairs: layout.pairs.mode,
    senders,
    captures: new Map(),
  });
  return {
    layout,
    connected: () => undefined,
    overlaysRead: () => undefined,
    settled: () => undefined,
    observed: () => observed,
    running: () => false,
  };
}

describe('the plan made from the manager view equals the plan made from the collection', () => {
  it('finds the recorded scenarios', () => {
    expect(scenarios).toEqual(expect.arrayContaining(['healthy', 'healthy-26', 'mixed', 'recorded']));
  });

  // ctlplane-diverged is the NetworkDB split: the manager does not list nd3 among ndnet's peers (below).
  it.each(scenarios.filter((x) => x !== 'ctlplane-diverged'))(
    '%s: every node pings from the same sandboxes, to the same tasks, with the same sizes',
    (scenario) => {
      const s = labSnapshot(scenario);
      const early = earlyLayout(s);
      const late = lateLayout(s);
      expect([...early.plans.keys()]).toEqual([...late.plans.keys()]);
      for (const [node, plan] of late.plans) {
        expect(withoutNetns(early.plans.get(node)!), `${scenario} ${node}`).toEqual(withoutNetns(plan));
      }
      // The lab's overlays really are pinged: the comparison is not between two empty plans.
      expect([...late.plans.values()].some((p) => p.dataPath.some((d) => d.sandbox.startsWith('lb_')))).toBe(true);
      // Before the collection the netns folder and its access are the node's to find.
      expect([...early.plans.values()].every((p) => p.netnsDir === null && p.viaDockerdMountNs === null)).toBe(true);
    },
  );
});

describe('confirmEarly', () => {
  it("probes again where the manager's view is not the node's (ctlplane-diverged: the split NetworkDB leaves nd3 out of the peers)", async () => {
    const d = labSnapshot('ctlplane-diverged');
    const early = earlyLayout(d).plans.get('nd3')!;
    const late = lateLayout(d).plans.get('nd3')!;
    expect(early.dataPath).toEqual([]);
    expect(late.dataPath.map((x) => x.sandbox).sort()).toEqual(['ingress_sbox', 'ingress_sbox', 'lb_icax854i1', 'lb_icax854i1']);
    expect(await confirmEarly(earlyRun(d), d, sessionsOf(['nd1', 'nd2', 'nd3']), O)).toBeNull();
  });

  const s = labSnapshot('healthy');
  const all = ['nd1', 'nd2', 'nd3'];

  it('keeps what the early probes saw, with the plans of the collected snapshot', async () => {
    const got = await confirmEarly(earlyRun(s), s, sessionsOf(all), O);
    expect(got).not.toBeNull();
    expect(got!.senders.map((x) => x.plan)).toEqual(all.map((n) => lateLayout(s).plans.get(n)!));
    expect(got!.senders.every((x) => x.plan.netnsDir === '/var/run/docker/netns' && x.plan.viaDockerdMountNs === false)).toBe(true);
    expect(got!.errors).toEqual([]);
  });

  it('probes again when a node could not be collected (it would have been a prober)', async () => {
    const t = structuredClone(s);
    const nd3 = t.nodes.find((n) => n.name === 'nd3')!;
    nd3.host = null;
    nd3.errors = [{ stage: 'exec', kind: 'exit', message: 'collection script exited 1' }];
    expect(await confirmEarly(earlyRun(s), t, sessionsOf(all), O)).toBeNull();
  });

  it("probes again when a node's load-balancer sandbox could not be entered (no overlay pings from it after all)", async () => {
    const t = structuredClone(s);
    for (const sb of t.nodes.find((n) => n.name === 'nd2')!.sandboxes)
      if (sb.kind === 'lb') sb.enterError = 'nsenter: reassociate to namespace failed';
    expect(await confirmEarly(earlyRun(s), t, sessionsOf(all), O)).toBeNull();
  });

  it("probes again when the vxlan device's MTU is not the one docker's rule predicts (the pings' sizes differ)", async () => {
    const t = structuredClone(s);
    for (const sb of t.nodes.find((n) => n.name === 'nd1')!.sandboxes) for (const l of sb.links) if (l.kind === 'vxlan') l.mtu = 1400;
    expect(await confirmEarly(earlyRun(s), t, sessionsOf(all), O)).toBeNull();
  });

  it('nothing was started (no node connected): nothing to keep', async () => {
    const e = earlyProbes(s.cluster, all, O);
    for (const n of all) e.settled(n);
    expect(e.observed()).toBeNull();
    expect(await confirmEarly(e, s, sessionsOf(all), O)).toBeNull();
  });

  it('probes again when a sender found another netns folder or another way in than the collection', async () => {
    const root = earlyRun(s, (n) => (n === 'nd2' ? 'N /run/docker-alt/netns direct' : 'N /var/run/docker/netns direct'));
    expect(await confirmEarly(root, s, sessionsOf(all), O)).toBeNull();
    const slave = earlyRun(s, (n) => (n === 'nd3' ? 'N /var/run/docker/netns dockerd-mount-ns' : 'N /var/run/docker/netns direct'));
    expect(await confirmEarly(slave, s, sessionsOf(all), O)).toBeNull();
    expect(
      await confirmEarly(
        earlyRun(s, () => ''),
        s,
        sessionsOf(all),
        O,
      ),
    ).toBeNull();
  });
});

describe('the early sender script under a real sh', () => {
  // The "sandbox" is this process's own network namespace (/proc/self/ns/net): entering it takes root.
  it.skipIf(process.getuid?.() !== 0)("a sandbox's pings from one nsenter: S once they are started, a D line per ping", () => {
    const script = buildSenderScript({
      tcp: [],
      udp: [],
      mtu: [],
      dataPath: [
        { sandbox: 'net', ip: '127.0.0.1', payload: 1000, network: 'n', peer: 'p' },
        { sandbox: 'net', ip: '127.0.0.1', payload: null, network: 'n', peer: 'q' },
      ],
      netnsDir: '/proc/self/ns',
      viaDockerdMountNs: false,
      timeoutSec: 1,
    });
    expect(script.match(/^dps /gm)).toHaveLength(1);
    const r = spawnSync('sh', ['-s'], { input: script, encoding: 'utf8', timeout: 20_000 });
    const lines = r.stdout.trim().split('\n');
    expect(
      lines.filter((l) => l.startsWith('S ')),
      r.stdout + r.stderr,
    ).toEqual(['S net']);
    expect(lines.filter((l) => l.startsWith('D ')).sort()).toEqual(['D net 127.0.0.1 0 0', 'D net 127.0.0.1 0 0', 'D net 127.0.0.1 1000 0']);
    expect(lines.at(-1)).toBe('DONE');
  });

  it('finds the netns folder itself and says so, then pings from the sandbox as planned', () => {
    const script = buildSenderScript({
      tcp: [],
      udp: [],
      mtu: [],
      dataPath: [{ sandbox: 'lb_nosuch0000', ip: '127.0.0.1', payload: null, network: 'n', peer: 'p' }],
      netnsDir: null,
      viaDockerdMountNs: null,
      timeoutSec: 1,
    });
    expect(spawnSync('sh', ['-n'], { input: script }).status).toBe(0);
    // No such sandbox, whether or not a dockerd runs here: the ping fails, the N line is printed either way.
    const r = spawnSync('sh', ['-s'], { input: script, encoding: 'utf8', timeout: 20_000 });
    const n = r.stdout.split('\n').find((l) => l.startsWith('N '));
    expect(n, r.stdout + r.stderr).toMatch(/^N \/\S+\/netns (direct|dockerd-mount-ns)$/);
    const parsed = parseProbeLines(r.stdout);
    expect(parsed.done).toBe(true);
    const d = parsed.lines.find((l) => l.kind === 'D')!;
    expect(d.fields.slice(0, 3)).toEqual(['lb_nosuch0000', '127.0.0.1', '0']);
    expect(d.fields[3]).not.toBe('0');
  });
});

/** The nodes a capture was started on, sorted. */
const captureNodes = (log: readonly { node: string; script: string }[]): string[] =>
  log
    .filter((l) => l.script.includes('tcpdump'))
    .map((l) => l.node)
    .sort();

describe('earlyProbes: the order things start in', () => {
  const s = labSnapshot('healthy');
  interface Run {
    node: string;
    /** What was written at once (the whole script, or a head waiting for its tail). */
    script: string;
    /** The tail, once written; null while the script waits for it; undefined when it had none. */
    tail?: string | null;
  }
  /** A session that records each script it is given and answers once its stdin is whole (a capture: listening, then complete). */
  function fakeSession(node: string, log: Run[]): SshSession {
    return {
      target: { user: 'root' },
      exec: async (_cmd: string, o: { stdin?: string; stdinTail?: Promise<string>; onStdout?: (b: Buffer) => void }) => {
        const run: Run = { node, script: o.stdin ?? '', ...(o.stdinTail ? { tail: null } : {}) };
        log.push(run);
        if (o.stdinTail) run.tail = await o.stdinTail;
        const script = run.script + (run.tail ?? '');
        const capture = script.includes('tcpdump');
        if (capture) o.onStdout?.(Buffer.from('PID 4242\nREADY\n'));
        const part = /\nudp /.test(script) ? 'datagrams' : /\ndps /.test(script) ? 'overlay' : 'underlay';
        const stdout = capture ? 'PID 4242\nREADY\nCOMPLETE\nDONE\n' : `# ${node} ${part}\nDONE\n`;
        return { stdout, stderr: '', code: 0, signal: null, durationMs: 1 };
      },
    } as unknown as SshSession;
  }
  const tick = () => new Promise((r) => setTimeout(r, 10));

  it("a node's sender scripts start when it connects and wait; everything probes once every node is connected or failed and past its overlay sandboxes", async () => {
    const log: Run[] = [];
    const e = earlyProbes(s.cluster, ['nd1', 'nd2', 'nd3'], O);
    const of = (node: string, re: RegExp) => log.filter((l) => l.node === node && re.test(l.script + (l.tail ?? '')));
    e.connected('nd2', fakeSession('nd2', log));
    // nd2's underlay and overlay senders start at once, as heads only: no probe has been sent yet.
    expect(log.map((l) => [l.node, l.tail])).toEqual([
      ['nd2', null],
      ['nd2', null],
    ]);
    expect(log.some((l) => /\n(tcp|mtu|udp|dps) /.test(l.script))).toBe(false);
    // The ping head finds how sandboxes are entered while the collection runs.
    expect(log.some((l) => l.script.includes('echo "N $NSDIR $A"'))).toBe(true);
    e.connected('nd1', fakeSession('nd1', log));
    e.overlaysRead('nd2');
    e.settled('nd3'); // nd3 could not be connected
    await tick();
    // nd1 has not read its overlay sandboxes yet: no capture, no tail, nothing observed.
    expect(e.observed()).toBeNull();
    expect(log.filter((l) => l.script.includes('tcpdump'))).toEqual([]);
    expect(log.every((l) => l.tail === null)).toBe(true);
    e.overlaysRead('nd1');
    const observed = e.observed()!;
    expect(observed).not.toBeNull();
    expect(e.running()).toBe(true);
    const done = await observed;
    expect(e.running()).toBe(false);
    // Then: captures on the connected nodes, every tail, the datagrams.
    expect(captureNodes(log)).toEqual(['nd1', 'nd2']);
    expect(of('nd2', /\ntcp 10\.213\.0\.11 2377 &\n/)).toHaveLength(1);
    expect(of('nd2', /\nmtu 10\.213\.0\.13 \d+ &\n/)).toHaveLength(1);
    expect(of('nd1', /\ndps lb_\w+ 10\.0\.1\.\d+:0 /)).toHaveLength(1);
    expect(of('nd2', /\ndps lb_\w+ 10\.0\.1\.\d+:0 /)).toHaveLength(1);
    expect(of('nd1', /\nudp .*10\.213\.0\.13:4789/).length + of('nd2', /\nudp .*10\.213\.0\.13:4789/).length).toBe(2);
    expect(e.layout.probers.map((p) => p.name)).toEqual(['nd1', 'nd2']);
    // One sender per node, its scripts' output as one, with the full plan.
    const nd2 = done.senders.find((x) => x.node === 'nd2')!;
    expect(nd2.output).toEqual({ ok: true, text: '# nd2 underlay\nDONE\n# nd2 overlay\nDONE\n# nd2 datagrams\nDONE\n' });
    expect(nd2.plan).toBe(e.layout.plans.get('nd2'));
    expect(done.captures.get('nd1')).toEqual({ ok: true, text: 'PID 4242\nREADY\nCOMPLETE\nDONE\n' });
  });
});

describe('earlyProbes: the overlay pings go first', () => {
  const s = labSnapshot('healthy');
  interface Held {
    node: string;
    script: string;
    tail: string | null;
    emit: (text: string) => void;
    finish: () => void;
  }
  /** Sessions whose ping scripts print only when told and end only when told; every other script ends at once. */
  function heldSession(node: string, log: Held[]): SshSession {
    return {
      target: { user: 'root' },
      exec: async (_cmd: string, o: { stdin?: string; stdinTail?: Promise<string>; onStdout?: (b: Buffer) => void }) => {
        let finish: () => void = () => undefined;
        const ended = new Promise<void>((r) => (finish = r));
        const run: Held = { node, script: o.stdin ?? '', tail: null, emit: (t) => o.onStdout?.(Buffer.from(t)), finish };
        log.push(run);
        if (o.stdinTail) run.tail = await o.stdinTail;
        const whole = run.script + (run.tail ?? '');
        if (whole.includes('tcpdump')) {
          o.onStdout?.(Buffer.from('PID 4242\nREADY\n'));
          return { stdout: 'PID 4242\nREADY\nCOMPLETE\nDONE\n', stderr: '', code: 0, signal: null, durationMs: 1 };
        }
        if (/\ndps /.test(whole)) await ended;
        return { stdout: 'DONE\n', stderr: '', code: 0, signal: null, durationMs: 1 };
      },
    } as unknown as SshSession;
  }
  const tick = () => new Promise((r) => setTimeout(r, 20));
  const sandboxesOf = (run: Held) => [...new Set([...(run.tail ?? '').matchAll(/^dps (\S+) /gm)].map((m) => m[1]!))];

  it("the other probes start once every node's pings are started (its S lines)", async () => {
    const log: Held[] = [];
    const e = earlyProbes(s.cluster, ['nd1', 'nd2', 'nd3'], O);
    e.connected('nd1', heldSession('nd1', log));
    e.connected('nd2', heldSession('nd2', log));
    e.settled('nd3');
    e.overlaysRead('nd1');
    e.overlaysRead('nd2');
    await tick();
    const pings = log.filter((l) => /\ndps /.test(l.tail ?? ''));
    expect(pings.map((l) => l.node).sort()).toEqual(['nd1', 'nd2']);
    const others = () => log.filter((l) => !/\ndps /.test(l.tail ?? ''));
    // Pings told to go; the underlay senders still wait and no capture runs.
    expect(others().every((l) => l.tail === null && !l.script.includes('tcpdump'))).toBe(true);
    const [p1, p2] = [pings.find((l) => l.node === 'nd1')!, pings.find((l) => l.node === 'nd2')!];
    expect(sandboxesOf(p1).length).toBeGreaterThan(0);
    // nd1's pings started, in two chunks that split a line; nd2's not yet: still waiting.
    const s1 = sandboxesOf(p1)
      .map((x) => `S ${x}\n`)
      .join('');
    p1.emit(s1.slice(0, 3));
    p1.emit(s1.slice(3));
    await tick();
    expect(others().every((l) => l.tail === null && !l.script.includes('tcpdump'))).toBe(true);
    for (const x of sandboxesOf(p2)) p2.emit(`S ${x}\n`);
    await tick();
    expect(
      others()
        .filter((l) => l.tail !== null)
        .map((l) => l.node)
        .sort(),
    ).toEqual(['nd1', 'nd2']);
    expect(captureNodes(log)).toEqual(['nd1', 'nd2']);
    p1.finish();
    p2.finish();
    const done = await e.observed()!;
    expect(done.senders.map((x) => x.node).sort()).toEqual(['nd1', 'nd2']);
  });

  it('without S lines, the others wait a bounded time (LAUNCH_WAIT_MS, 300 ms), not for the pings to end', async () => {
    const log: Held[] = [];
    const e = earlyProbes(s.cluster, ['nd1', 'nd2', 'nd3'], O);
    e.connected('nd1', heldSession('nd1', log));
    e.settled('nd2');
    e.settled('nd3');
    const t0 = Date.now();
    e.overlaysRead('nd1');
    while (!log.some((l) => l.script.includes('tcpdump')) && Date.now() - t0 < 2000) await tick();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(280);
    expect(Date.now() - t0).toBeLessThan(1000);
    for (const l of log) l.finish();
    await e.observed();
  });
});
