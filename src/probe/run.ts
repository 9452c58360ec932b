/**
 * Active probes over the sessions that collection opened (no new
 * connections). The I/O only: which programs run where and when. What their
 * output means is verdict.ts; which pairs get which probes is plan.ts.
 *
 *  1. Every reachable node starts a capture of the probe datagrams addressed
 *     to it, told which datagrams to expect (one from each sender on each
 *     UDP port, and ESP from each sender that shares an encrypted overlay
 *     with it: the same tcpdump); it prints READY once tcpdump listens.
 *  2. As soon as every capture is ready (or the readiness wait, bounded by
 *     the probe timeout + 3 s, is over), every node probes its peers, everything at
 *     once: UDP datagrams and ESP packets first, then TCP connects, DF pings and overlay pings.
 *  3. Each capture ends as soon as every expected datagram arrived, or,
 *     when some never do, once every sender is done (their datagrams went
 *     out first) and its output has been quiet for a short grace;
 *     2 × the probe timeout + 10 s is only its upper bound. Senders end
 *     when their last probe answers or times out.
 * Bounded in time, nothing left behind.
 */
import { randomInt } from 'node:crypto';
import { sudoWrap, type SshSession } from '../ssh/session.js';
import type { ClusterSnapshot } from '../snapshot/types.js';
import type { ProbeOptions } from './options.js';
import { espGroups, planEsp, planNode, planPairs, type Peer } from './plan.js';
import {
  buildCaptureScript,
  buildCaptureStopScript,
  buildSenderScript,
  ESP_SPI_MAX,
  ESP_SPI_MIN,
  parseProbeLines,
  type ExpectedDatagram,
} from './script.js';
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
  const { readyWaitMs, senderMs, captureSec, graceMs } = probeBounds(t);
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

  // ESP only between nodes that share an encrypted overlay (or, in a gate, one of the stack's), with this run's SPI.
  const esp = { spi: randomInt(ESP_SPI_MIN, ESP_SPI_MAX + 1), to: planEsp(o.espGroups ?? espGroups(snapshot)) };

  // 1. Captures on every reachable node, each expecting a datagram from every other prober on each port.
  onOutput(`capturing probe datagrams on ${probers.length} nodes`);
  const captures = probers.map((n) => {
    const s = sessions.get(n.name)!;
    const expect = expectedAt(n.name, probers, ipOf, [7946, dataPort], esp.to);
    const spi = expect.some((e) => e.port === 'esp') ? esp.spi : null;
    return startCapture(n.name, s, buildCaptureScript([7946, dataPort], captureSec, expect, spi), captureSec);
  });
  let readyTimer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.all(captures.map((c) => c.ready)),
    new Promise<void>((r) => {
      readyTimer = setTimeout(r, readyWaitMs);
    }),
  ]);
  clearTimeout(readyTimer);
  // A capture not listening yet when the senders start may miss their datagrams.
  const unsure = new Map<string, string>();
  for (const c of captures) if (!c.isReady()) unsure.set(c.name, 'it was not listening yet when the senders started');

  // 2. Every node probes its peers, all at once.
  const planned = probers.length * Math.max(0, all.length - 1);
  onOutput(`probing ${planned} node pairs${pairs.mode === 'covering' ? ' (TCP and pings on a covering subset, see --probe-pairs)' : ''}`);
  const fullPeers = (name: string, peers: Peer[]) => new Set(pairs.full.get(name) ?? peers.map((p) => p.name));
  const espPeers = (name: string) => ({ spi: esp.spi, to: esp.to.get(name) ?? new Set<string>() });
  const senders = await runSenders(snapshot, probers, all, sessions, o, senderMs, fullPeers, espPeers);
  // 3. Every sender is done: a capture still waiting, once quiet, has seen all it will see.
  const sendersDone = Date.now();
  await Promise.all(captures.map((c) => stopWhenQuiet(c, sendersDone, graceMs)));
  const captured = new Map<string, Outcome>();
  for (const c of captures) {
    captured.set(c.name, await c.done);
    // Ended on its own upper bound, before its count was in and every sender was done: later datagrams went unseen.
    const out = captured.get(c.name)!;
    if (out.ok && c.endedAt() < sendersDone && !parseProbeLines(out.text).complete && !unsure.has(c.name)) {
      unsure.set(c.name, 'it ended before every sender was done');
    }
  }
  return {
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    timeoutSec: t,
    captureSec,
    pairs: pairs.mode,
    senders,
    captures: captured,
    ...(unsure.size > 0 ? { unsure } : {}),
    errors,
  };
}

/**
 * What `node`'s capture waits for: a datagram from every other prober on each UDP port, and ESP from
 * every prober whose plan sends it ESP (IPv4 only: the ESP probe is IPv4).
 */
export function expectedAt(
  node: string,
  probers: readonly { name: string }[],
  ipOf: ReadonlyMap<string, string>,
  ports: readonly number[],
  espTo: ReadonlyMap<string, ReadonlySet<string>>,
): ExpectedDatagram[] {
  if (!ipOf.has(node)) return [];
  const out: ExpectedDatagram[] = [];
  for (const p of probers) {
    const src = ipOf.get(p.name);
    if (p.name === node || src === undefined) continue;
    for (const port of ports) out.push({ src, port });
    if (espTo.get(p.name)?.has(node) && /^\d{1,3}(\.\d{1,3}){3}$/.test(src)) out.push({ src, port: 'esp' });
  }
  return out;
}

/**
 * The time bounds of one probe run, for a probe timeout of t seconds. On a
 * healthy cluster none is reached: captures listen within ~0.1 s, senders end
 * when their last probe answers, captures when their count is in. They matter
 * on overloaded nodes (60 lab nodes on 2 CPUs: load average ~300), where
 * tcpdump can take seconds to listen and a sender many seconds to run: the
 * bounds are nested so that a capture outlasts the readiness wait plus every
 * sender's limit, and is ended by its count or by the client, not by itself.
 */
export function probeBounds(t: number): { readyWaitMs: number; senderMs: number; captureSec: number; graceMs: number } {
  const readyWaitMs = (2 * t + 6) * 1000;
  const senderMs = (2 * t + 6) * 1000;
  return {
    readyWaitMs,
    senderMs,
    captureSec: Math.ceil((readyWaitMs + senderMs) / 1000) + 5,
    // After the last sender ends, a capture is stopped once its output has been quiet this
    // long: datagrams still in flight, or in tcpdump's backlog on a busy node, come first.
    graceMs: 500,
  };
}

/** Every node probes its peers, all at once; each sender's output as it printed it. */
function runSenders(
  snapshot: ClusterSnapshot,
  probers: ClusterSnapshot['nodes'],
  all: Peer[],
  sessions: ReadonlyMap<string, SshSession>,
  o: ProbeOptions,
  limitMs: number,
  fullPeers: (node: string, peers: Peer[]) => Set<string>,
  espPeers: (node: string) => { spi: number; to: ReadonlySet<string> },
): Promise<SenderRun[]> {
  return Promise.all(
    probers.map(async (n) => {
      const peers = all.filter((p) => p.name !== n.name);
      const plan = planNode(snapshot, n, peers, o, fullPeers(n.name, peers), espPeers(n.name));
      const s = sessions.get(n.name)!;
      let output: Outcome;
      try {
        const r = await s.exec(sudoWrap('sh -s', s.target.user), { stdin: buildSenderScript(plan), timeoutMs: limitMs });
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
  isReady(): boolean;
  finished(): boolean;
  /** When it ended (ms since the epoch, as the client saw it); Infinity while it runs. */
  endedAt(): number;
  lastOutput(): number;
}

/** Start one node's capture script; its READY/PID lines are read as they arrive. */
function startCapture(name: string, s: SshSession, script: string, captureSec: number): Capture {
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((r) => {
    markReady = r;
  });
  let seen = '';
  let listening = false;
  let endedAt = Infinity;
  let lastOutput = Date.now();
  const done: Promise<Outcome> = s
    .exec(sudoWrap('sh -s', s.target.user), {
      stdin: script,
      timeoutMs: (captureSec + 5) * 1000,
      onStdout: (chunk) => {
        lastOutput = Date.now();
        if (seen.length < 4096) seen += chunk.toString('latin1');
        if (!listening && /^(READY|NOTCPDUMP)$/m.test(seen)) {
          listening = true;
          markReady();
        }
      },
    })
    .then((r) => ({ ok: true as const, text: r.stdout }))
    .catch((err: Error) => ({ ok: false as const, text: err.message }))
    .finally(() => {
      endedAt = Date.now();
      markReady();
    });
  const pid = () => Number(/^PID (\d{1,10})$/m.exec(seen)?.[1] ?? NaN);
  const finished = () => endedAt !== Infinity;
  return { name, session: s, ready, done, pid, isReady: () => listening, finished, endedAt: () => endedAt, lastOutput: () => lastOutput };
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
