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
import type { ClusterFacts, ClusterSnapshot, NodeSnapshot } from '../snapshot/types.js';
import type { ProbeOptions } from './options.js';
import { espGroups, planEsp, planFor, planPairs, probeNodeFromFacts, probeNodeOf, type PairPlan, type Peer, type ProbeNode } from './plan.js';
import {
  buildCaptureScript,
  buildCaptureStopScript,
  buildSenderScript,
  senderScriptParts,
  ESP_SPI_MAX,
  ESP_SPI_MIN,
  parseProbeLines,
  type ExpectedDatagram,
  type SenderPlan,
} from './script.js';
import { probeResults, type ObservedProbes, type Outcome, type SenderRun } from './verdict.js';
import type { ProbeResults } from './types.js';

export { PROBE_DEFAULTS, type ProbeOptions } from './options.js';
export { dataPathTargets, planNode, VXLAN_OVERHEAD } from './plan.js';

/** Who probes whom, and what each prober sends: one run's plan. */
export interface ProbeLayout {
  /** Every swarm node with an address, sorted by name: the peers. */
  all: Peer[];
  /** The nodes that probe (and capture), in the order given. */
  probers: ProbeNode[];
  pairs: PairPlan;
  esp: { spi: number; to: Map<string, Set<string>> };
  plans: Map<string, SenderPlan>;
}

/** The plan of one run over `probers` (collected nodes, or predicted ones: plan.ts probeNodeFromFacts). */
export function layoutProbes(
  cluster: ClusterFacts,
  probers: readonly ProbeNode[],
  o: ProbeOptions,
  spi: number,
  groups: readonly (readonly string[])[],
): ProbeLayout {
  const all: Peer[] = cluster.nodes
    .filter((n) => n.advertiseAddress !== null)
    .map((n) => ({ name: n.name, ip: n.advertiseAddress!, manager: n.role === 'manager' }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const pairs = planPairs(
    all.map((p) => p.name),
    o.pairs ?? 'auto',
  );
  const esp = { spi, to: planEsp(groups) };
  const plans = new Map<string, SenderPlan>();
  for (const n of probers) {
    const peers = all.filter((p) => p.name !== n.name);
    const full = new Set(pairs.full.get(n.name) ?? peers.map((p) => p.name));
    plans.set(n.name, planFor(cluster, n, peers, o, full, { spi, to: esp.to.get(n.name) ?? new Set<string>() }));
  }
  return { all, probers: [...probers], pairs, esp, plans };
}

const newSpi = (): number => randomInt(ESP_SPI_MIN, ESP_SPI_MAX + 1);

/** A node probes when it was collected and its session is still open. */
const canProbe = (n: NodeSnapshot, sessions: ReadonlyMap<string, SshSession>): boolean => sessions.has(n.name) && n.host !== null;

/** Nodes of the snapshot that cannot probe: no session, or not collected. */
function probeErrors(snapshot: ClusterSnapshot, sessions: ReadonlyMap<string, SshSession>): { node: string; message: string }[] {
  return snapshot.nodes
    .filter((n) => !canProbe(n, sessions))
    .map((n) => ({ node: n.name, message: `no probes from ${n.name}: ${n.errors[0]?.message ?? 'not collected'}` }));
}

/**
 * The plan from the collected snapshot: its collected nodes with an open session probe, ESP only
 * between nodes that share an encrypted overlay (or, in a gate, one of the stack's), with this SPI.
 */
function collectedLayout(snapshot: ClusterSnapshot, sessions: ReadonlyMap<string, SshSession>, o: ProbeOptions, spi: number): ProbeLayout {
  const probers = snapshot.nodes.filter((n) => canProbe(n, sessions)).map((n) => probeNodeOf(snapshot, n));
  return layoutProbes(snapshot.cluster, probers, o, spi, o.espGroups ?? espGroups(snapshot));
}

/** Run the probe programs; return what they printed (no verdicts). */
export async function observeProbes(
  snapshot: ClusterSnapshot,
  sessions: ReadonlyMap<string, SshSession>,
  o: ProbeOptions,
  onOutput: (msg: string) => void = () => undefined,
): Promise<ObservedProbes> {
  const lay = collectedLayout(snapshot, sessions, o, newSpi());
  return { ...(await observeLayout(lay, snapshot.cluster.dataPathPort, sessions, o, onOutput)), errors: probeErrors(snapshot, sessions) };
}

/**
 * Probes started before the nodes are collected, planned from the manager's
 * view (plan.ts probeNodeFromFacts) and run alongside the collection on the
 * same connections:
 *  - as soon as a node is connected, its sender scripts start (defining the
 *    probes and finding how sandboxes are entered) and wait on their stdin;
 *  - once every node is connected or failed and every connected node's
 *    collection is past its overlay sandboxes, the overlay pings go: VXLAN
 *    learns from the frames they carry, so every FDB and vxlan neighbour
 *    table is read first, as it was;
 *  - once every node's pings are started (`S` lines; at most LAUNCH_WAIT_MS
 *    later), the captures start and the TCP connects and DF pings go, the
 *    UDP and ESP datagrams once the captures listen. An unanswered ping
 *    waits out the probe timeout and so sets when the probes end: it starts
 *    first, and nothing but the collection's first part, which everything
 *    waits for, runs on the nodes before it.
 * confirmEarly keeps what they observed only when the collected snapshot
 * plans exactly the same probes.
 */
export interface EarlyProbes {
  /** Plans for every node asked for; `probers`, once started, the nodes that were connected. */
  layout: ProbeLayout;
  connected(node: string, session: SshSession): void;
  /** The node's collection is past its overlay sandboxes (collect.ts overlaysReadAfter). */
  overlaysRead(node: string): void;
  /** The node's collection is over (connected or not). */
  settled(node: string): void;
  /** What they printed; null when nothing was started (no node connected). */
  observed(): Promise<Omit<ObservedProbes, 'errors'>> | null;
  /** Probes started and not all over yet (an unanswered ping waits out the probe timeout). */
  running(): boolean;
}

export function earlyProbes(
  cluster: ClusterFacts,
  nodes: readonly string[],
  o: ProbeOptions,
  onOutput: (msg: string) => void = () => undefined,
): EarlyProbes {
  const predicted = [...new Set(nodes)].sort().map((name) => probeNodeFromFacts(cluster, name));
  const layout = layoutProbes(cluster, predicted, o, newSpi(), o.espGroups ?? espGroups({ cluster, nodes: [] }));
  const { senderMs } = probeBounds(o.timeoutSec);
  const pending = new Set(layout.plans.keys());
  const unread = new Set(layout.plans.keys());
  const sessions = new Map<string, SshSession>();
  const parts = new Map<string, Promise<Outcome>[]>();
  /** Each connected node's gos: its sender scripts are running, waiting for their tails; the pings go first. */
  const pingGos = new Map<string, () => void>();
  const restGos = new Map<string, () => void>();
  const launches = pingLaunches();
  let observed: Promise<Omit<ObservedProbes, 'errors'>> | null = null;
  let over = false;
  const maybeStart = () => {
    if (observed !== null || pending.size > 0 || sessions.size === 0) return;
    if ([...sessions.keys()].some((n) => unread.has(n))) return;
    layout.probers = predicted.filter((n) => sessions.has(n.name));
    // The overlay pings first: the unanswered ones wait out the timeout, so they set the end. The
    // rest once every node's pings are started (its `S` lines), or after LAUNCH_WAIT_MS.
    const pingsStarted = launches.started();
    for (const go of pingGos.values()) go();
    observed = pingsStarted.then(() => {
      for (const go of restGos.values()) go();
      return observeLayout(layout, cluster.dataPathPort, sessions, o, onOutput, parts);
    });
    observed.then(
      () => (over = true),
      () => (over = true),
    );
  };
  return {
    layout,
    connected(node, s) {
      const plan = layout.plans.get(node);
      if (plan === undefined || !pending.has(node)) return;
      sessions.set(node, s);
      // The scripts start now and probe on their go (their tails); the datagrams wait for the captures (observeLayout).
      const started = (p: SenderPlan, gos: Map<string, () => void>, onStdout?: (d: Buffer) => void): Promise<Outcome> => {
        const { head, tail } = senderScriptParts(p);
        const released = new Promise<string>((r) => gos.set(node, () => r(tail)));
        return runScript(s, head, senderMs, released, onStdout);
      };
      const pings = pingPart(plan);
      const sandboxes = new Set(pings.dataPath.map((d) => d.sandbox)).size;
      const pinging =
        sandboxes === 0
          ? Promise.resolve({ ok: true, text: '' })
          : started(pings, pingGos, launches.expect(node, sandboxes)).finally(() => launches.over(node));
      parts.set(node, [started(underlayPart(plan), restGos), pinging]);
      pending.delete(node);
      maybeStart();
    },
    overlaysRead(node) {
      unread.delete(node);
      maybeStart();
    },
    settled(node) {
      pending.delete(node);
      unread.delete(node);
      maybeStart();
    },
    observed: () => observed,
    running: () => observed !== null && !over,
  };
}

/** How long the other early probes wait for every node's overlay pings to have started. */
const LAUNCH_WAIT_MS = 300;

/**
 * Which nodes' overlay pings are started: each node's ping script prints `S <sandbox>` once a
 * sandbox's pings are (script.ts dps). `started()` resolves when no node has a sandbox left, or
 * after LAUNCH_WAIT_MS.
 */
function pingLaunches() {
  const left = new Map<string, number>();
  let settle: () => void = () => undefined;
  const check = () => {
    if (![...left.values()].some((n) => n > 0)) settle();
  };
  return {
    /** `sandboxes` batches to wait for on `node`; what to give its ping script's stdout to. */
    expect(node: string, sandboxes: number): (d: Buffer) => void {
      left.set(node, sandboxes);
      let partial = '';
      return (d) => {
        const lines = (partial + d.toString('latin1')).split('\n');
        partial = (lines.pop() ?? '').slice(-256);
        const n = lines.filter((l) => l.startsWith('S ')).length;
        if (n === 0) return;
        left.set(node, (left.get(node) ?? 0) - n);
        check();
      };
    },
    /** The node's ping script ended (or failed): nothing left to wait for there. */
    over(node: string): void {
      left.set(node, 0);
      check();
    },
    started(): Promise<void> {
      return new Promise<void>((r) => {
        const timer = setTimeout(r, LAUNCH_WAIT_MS);
        settle = () => {
          clearTimeout(timer);
          r();
        };
        check();
      });
    },
  };
}

const emptyPlan = (p: SenderPlan): SenderPlan => ({
  tcp: [],
  udp: [],
  mtu: [],
  dataPath: [],
  netnsDir: p.netnsDir,
  viaDockerdMountNs: p.viaDockerdMountNs,
  timeoutSec: p.timeoutSec,
});
/** A sender's probes of the underlay that need no capture on the receiver: TCP connects, DF pings. */
const underlayPart = (p: SenderPlan): SenderPlan => ({ ...emptyPlan(p), tcp: p.tcp, mtu: p.mtu });
/** Its overlay pings, from its sandboxes. */
const pingPart = (p: SenderPlan): SenderPlan => ({ ...emptyPlan(p), dataPath: p.dataPath });
/** The rest: UDP and ESP datagrams, which the receivers' captures confirm. */
const datagramPart = (p: SenderPlan): SenderPlan => ({ ...emptyPlan(p), udp: p.udp, ...(p.esp ? { esp: p.esp } : {}) });

/** Run a script; with `tail`, `script` is its head and the tail follows when it resolves (the limit counts from then). */
async function runScript(s: SshSession, script: string, limitMs: number, tail?: Promise<string>, onStdout?: (d: Buffer) => void): Promise<Outcome> {
  try {
    const r = await s.exec(sudoWrap('sh -s', s.target.user), {
      stdin: script,
      timeoutMs: limitMs,
      ...(tail ? { stdinTail: tail } : {}),
      ...(onStdout ? { onStdout } : {}),
    });
    return { ok: true, text: r.stdout };
  } catch (err) {
    return { ok: false, text: (err as Error).message };
  }
}

/**
 * What the early probes observed, if the collected snapshot plans the same
 * probes from the same nodes (the same provers, peers, ports, sizes, sandboxes,
 * and the netns folder and access the sender scripts found); null when it
 * does not, and the caller probes again from the snapshot.
 */
export async function confirmEarly(
  early: EarlyProbes,
  snapshot: ClusterSnapshot,
  sessions: ReadonlyMap<string, SshSession>,
  o: ProbeOptions,
): Promise<ObservedProbes | null> {
  const started = early.observed();
  if (started === null) return null;
  // Awaited first, also when unused: probes run again only once these are over.
  const observed = await started;
  const late = collectedLayout(snapshot, sessions, o, early.layout.esp.spi);
  const names = (l: ProbeLayout) => JSON.stringify(l.probers.map((p) => p.name).sort());
  if (names(late) !== names(early.layout)) return null;
  for (const s of observed.senders) {
    const mine = late.plans.get(s.node);
    if (!mine || !samePlan(s.plan, mine) || !sameNetns(s.output, mine)) return null;
  }
  return {
    ...observed,
    senders: observed.senders.map((s) => ({ ...s, plan: late.plans.get(s.node)! })),
    errors: probeErrors(snapshot, sessions),
  };
}

const planKey = (p: SenderPlan): string => JSON.stringify([p.tcp, p.udp, p.mtu, p.dataPath, p.esp ?? null, p.timeoutSec]);
const samePlan = (a: SenderPlan, b: SenderPlan): boolean => planKey(a) === planKey(b);

/** The `N <netns dir> <access>` line of an early sender that pinged in sandboxes, against what the collection found. */
function sameNetns(out: Outcome, p: SenderPlan): boolean {
  if (p.dataPath.length === 0) return true;
  if (!out.ok) return false;
  const line = out.text.split('\n').find((l) => l.startsWith('N '));
  if (line === undefined) return false;
  const access = line.slice(line.lastIndexOf(' ') + 1);
  const dir = line.slice(2, line.lastIndexOf(' '));
  return dir === p.netnsDir && (access === 'dockerd-mount-ns') === p.viaDockerdMountNs;
}

/** Captures on every prober, then every prober's senders, all at once; what they printed. */
async function observeLayout(
  lay: ProbeLayout,
  dataPort: number,
  sessions: ReadonlyMap<string, SshSession>,
  o: ProbeOptions,
  onOutput: (msg: string) => void,
  active: ReadonlyMap<string, readonly Promise<Outcome>[]> | null = null,
): Promise<Omit<ObservedProbes, 'errors'>> {
  const started = Date.now();
  const t = o.timeoutSec;
  const { readyWaitMs, senderMs, captureSec, graceMs } = probeBounds(t);
  const ipOf = new Map(lay.all.map((p) => [p.name, p.ip]));
  const esp = lay.esp;

  // 1. Captures on every reachable node, each expecting a datagram from every other prober on each port.
  onOutput(`capturing probe datagrams on ${lay.probers.length} nodes`);
  const captures = lay.probers.map((n) => {
    const s = sessions.get(n.name)!;
    const expect = expectedAt(n.name, lay.probers, ipOf, [7946, dataPort], esp.to);
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
  const planned = lay.probers.length * Math.max(0, lay.all.length - 1);
  onOutput(`probing ${planned} node pairs${lay.pairs.mode === 'covering' ? ' (TCP and pings on a covering subset, see --probe-pairs)' : ''}`);
  const senders = await runSenders(lay, sessions, senderMs, active);
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
    pairs: lay.pairs.mode,
    senders,
    captures: captured,
    ...(unsure.size > 0 ? { unsure } : {}),
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

/**
 * Every node probes its peers, all at once; each sender's output as it
 * printed it. With `active` (early probes), the TCP connects and pings already
 * run: only the datagrams are sent now, and the two outputs are one sender's.
 */
function runSenders(
  lay: ProbeLayout,
  sessions: ReadonlyMap<string, SshSession>,
  limitMs: number,
  active: ReadonlyMap<string, readonly Promise<Outcome>[]> | null,
): Promise<SenderRun[]> {
  return Promise.all(
    lay.probers.map(async (n) => {
      const peers = lay.all.filter((p) => p.name !== n.name);
      const plan = lay.plans.get(n.name)!;
      const s = sessions.get(n.name)!;
      const started = active?.get(n.name);
      if (started === undefined) return { node: n.name, peers, plan, output: await runScript(s, buildSenderScript(plan), limitMs) };
      const outs = await Promise.all([...started, runScript(s, buildSenderScript(datagramPart(plan)), limitMs)]);
      const failed = outs.find((x) => !x.ok);
      const output: Outcome = failed ?? { ok: true, text: outs.map((x) => x.text).join('') };
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
