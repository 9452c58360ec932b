/**
 * Active probes over the sessions that collection opened (no new
 * connections). The I/O only: which programs run where and when. What their
 * output means is verdict.ts; which pairs get which probes is plan.ts.
 *
 *  1. Every reachable node starts a capture of the probe datagrams addressed
 *     to it, told which datagrams to expect (one from each sender on each
 *     UDP port); it prints READY once tcpdump listens.
 *  2. As soon as every capture is ready (or the readiness wait, bounded by
 *     the probe timeout + 3 s, is over), every node probes its peers, everything at
 *     once: UDP datagrams first, then TCP connects, DF pings and overlay pings.
 *  3. Each capture ends as soon as every expected datagram arrived, or,
 *     when some never do, once every sender is done (their datagrams went
 *     out first) and its output has been quiet for a short grace;
 *     2 × the probe timeout + 10 s is only its upper bound. Senders end
 *     when their last probe answers or times out.
 * Bounded in time, nothing left behind.
 */
import { sudoWrap, type SshSession } from '../ssh/session.js';
import type { ClusterSnapshot } from '../snapshot/types.js';
import type { ProbeOptions } from './options.js';
import { planNode, planPairs, type Peer } from './plan.js';
import { buildCaptureScript, buildCaptureStopScript, buildSenderScript, type ExpectedDatagram } from './script.js';
import { probeResults, type ObservedProbes, type Outcome, type SenderRun } from './verdict.js';
import type { ProbeResults } from './types.js';

export { PROBE_DEFAULTS, type ProbeOptions } from './options.js';
export { dataPathTargets, planNode, VXLAN_OVERHEAD } from './plan.js';

/** Run the probe programs; return what they printed (no verdicts). */
export async function observeProbes(
  snapshot: ClusterSnapshot,
  sessions: ReadonlyMap<string, SshSession>,
  o: ProbeOptions,
  onOutput: (msg: string) => void = () => undefined,
): Promise<ObservedProbes> {
  const started = Date.now();
  const all: Peer[] = snapshot.cluster.nodes
    .filter((n) => n.advertiseAddress !== null)
    .map((n) => ({ name: n.name, ip: n.advertiseAddress!, manager: n.role === 'manager' }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const dataPort = snapshot.cluster.dataPathPort;
  const t = o.timeoutSec;
  // A capture ends when its count is in, or when it is stopped once every sender is done;
  // this upper bound (from its start) only matters when the stop cannot reach it. It
  // outlasts the readiness wait (t + 3) plus a sender's own limit (t + 6), so that late
  // senders on an overloaded node are still seen (60 lab nodes on 2 CPUs: a 5 s bound
  // turned half the UDP probes into false failures).
  const captureSec = 2 * t + 10;
  // After the last sender ends, a capture is stopped once its output has been quiet this
  // long: datagrams still in flight, or in tcpdump's backlog on a busy node, come first.
  const graceMs = 500;
  const errors: { node: string; message: string }[] = [];

  const probers = snapshot.nodes.filter((n) => sessions.has(n.name) && n.host !== null);
  for (const n of snapshot.nodes.filter((x) => !probers.includes(x))) {
    errors.push({ node: n.name, message: `no probes from ${n.name}: ${n.errors[0]?.message ?? 'not collected'}` });
  }
  const pairs = planPairs(
    all.map((p) => p.name),
    o.pairs ?? 'auto',
  );
  const ipOf = new Map(all.map((p) => [p.name, p.ip]));

  // 1. Captures on every reachable node, each expecting a datagram from every other prober on each port.
  onOutput(`capturing probe datagrams on ${probers.length} nodes`);
  // A capture normally listens within ~0.1 s; an overloaded node's tcpdump can take
  // seconds, and datagrams sent before it listens are lost. Only a hung one waits this out.
  const readyWaitMs = (t + 3) * 1000;
  const captures = probers.map((n) => {
    const s = sessions.get(n.name)!;
    const expect: ExpectedDatagram[] = probers
      .filter((p) => p.name !== n.name && ipOf.has(p.name) && ipOf.has(n.name))
      .flatMap((p) => [7946, dataPort].map((port) => ({ src: ipOf.get(p.name)!, port })));
    return startCapture(n.name, s, buildCaptureScript([7946, dataPort], captureSec, expect), captureSec);
  });
  let readyTimer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.all(captures.map((c) => c.ready)),
    new Promise<void>((r) => {
      readyTimer = setTimeout(r, readyWaitMs);
    }),
  ]);
  clearTimeout(readyTimer);

  // 2. Every node probes its peers, all at once.
  const planned = probers.length * Math.max(0, all.length - 1);
  onOutput(`probing ${planned} node pairs${pairs.mode === 'covering' ? ' (TCP and pings on a covering subset, see --probe-pairs)' : ''}`);
  const senders = await runSenders(snapshot, probers, all, sessions, o, (name, peers) => new Set(pairs.full.get(name) ?? peers.map((p) => p.name)));
  // 3. Every sender is done: a capture still waiting, once quiet, has seen all it will see.
  const sendersDone = Date.now();
  await Promise.all(captures.map((c) => stopWhenQuiet(c, sendersDone, graceMs)));
  const captured = new Map<string, Outcome>();
  for (const c of captures) captured.set(c.name, await c.done);
  return {
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    timeoutSec: t,
    captureSec,
    pairs: pairs.mode,
    senders,
    captures: captured,
    errors,
  };
}

/** Every node probes its peers, all at once; each sender's output as it printed it. */
function runSenders(
  snapshot: ClusterSnapshot,
  probers: ClusterSnapshot['nodes'],
  all: Peer[],
  sessions: ReadonlyMap<string, SshSession>,
  o: ProbeOptions,
  fullPeers: (node: string, peers: Peer[]) => Set<string>,
): Promise<SenderRun[]> {
  const t = o.timeoutSec;
  return Promise.all(
    probers.map(async (n) => {
      const peers = all.filter((p) => p.name !== n.name);
      const plan = planNode(snapshot, n, peers, o, fullPeers(n.name, peers));
      const s = sessions.get(n.name)!;
      let output: Outcome;
      try {
        const r = await s.exec(sudoWrap('sh -s', s.target.user), { stdin: buildSenderScript(plan), timeoutMs: (t + 6) * 1000 });
        output = { ok: true, text: r.stdout };
      } catch (err) {
        output = { ok: false, text: (err as Error).message };
      }
      return { node: n.name, peers, plan, output };
    }),
  );
}

interface Capture {
  name: string;
  session: SshSession;
  /** Resolves once the capture listens (READY), cannot (NOTCPDUMP) or ended. */
  ready: Promise<void>;
  done: Promise<Outcome>;
  pid(): number;
  finished(): boolean;
  lastOutput(): number;
}

/** Start one node's capture script; its READY/PID lines are read as they arrive. */
function startCapture(name: string, s: SshSession, script: string, captureSec: number): Capture {
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((r) => {
    markReady = r;
  });
  let seen = '';
  let finished = false;
  let lastOutput = Date.now();
  const done: Promise<Outcome> = s
    .exec(sudoWrap('sh -s', s.target.user), {
      stdin: script,
      timeoutMs: (captureSec + 5) * 1000,
      onStdout: (chunk) => {
        lastOutput = Date.now();
        if (seen.length < 4096) seen += chunk.toString('latin1');
        if (/^(READY|NOTCPDUMP)$/m.test(seen)) markReady();
      },
    })
    .then((r) => ({ ok: true as const, text: r.stdout }))
    .catch((err: Error) => ({ ok: false as const, text: err.message }))
    .finally(() => {
      finished = true;
      markReady();
    });
  const pid = () => Number(/^PID (\d{1,10})$/m.exec(seen)?.[1] ?? NaN);
  return { name, session: s, ready, done, pid, finished: () => finished, lastOutput: () => lastOutput };
}

/** Once every sender is done: a capture still waiting, once its output is quiet, has seen all it will see; stop it. */
async function stopWhenQuiet(c: Capture, sendersDone: number, graceMs: number): Promise<void> {
  for (;;) {
    const quietAt = Math.max(sendersDone, c.lastOutput()) + graceMs;
    if (c.finished() || Date.now() >= quietAt) break;
    await Promise.race([c.done, new Promise((r) => setTimeout(r, quietAt - Date.now()))]);
  }
  if (c.finished()) return;
  const pid = c.pid();
  if (!Number.isSafeInteger(pid) || pid <= 1) return;
  await c.session.exec(sudoWrap('sh -s', c.session.target.user), { stdin: buildCaptureStopScript(pid), timeoutMs: 5000 }).catch(() => undefined);
}

export async function runProbes(
  snapshot: ClusterSnapshot,
  sessions: ReadonlyMap<string, SshSession>,
  o: ProbeOptions,
  onOutput: (msg: string) => void = () => undefined,
): Promise<ProbeResults> {
  return probeResults(snapshot, await observeProbes(snapshot, sessions, o, onOutput));
}
