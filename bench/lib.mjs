// Shared helpers for the benchmark scripts (plain ESM on the built dist/).
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';

export const median = (xs) => {
  const s = [...xs].filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

export const fmt = (ms) => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(3)} s` : 'n/a');

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function labState(dir = process.env.ND_LAB_DIR ?? '/tmp/ndlab') {
  try {
    const lab = JSON.parse(readFileSync(`${dir}/lab.json`, 'utf8'));
    return { ...lab, sshNodes: lab.sshNodes ?? [] };
  } catch {
    console.error(`no lab at ${dir}: run "npm run lab -- up" first (root)`);
    process.exit(2);
  }
}

/** OpenSSH options that log into a lab node with the lab's key and strict host key checking, no ssh_config. */
export const labSshOptions = (lab) => [
  '-F',
  'none',
  '-i',
  lab.sshKey,
  '-o',
  `UserKnownHostsFile=${lab.knownHosts}`,
  '-o',
  'StrictHostKeyChecking=yes',
];

export const runs = () => {
  const n = Number(process.env.BENCH_RUNS ?? 5);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`BENCH_RUNS must be a positive integer (got '${process.env.BENCH_RUNS}')`);
    process.exit(2);
  }
  return n;
};

/** One line on the machine and what else is running, for the report header. */
export function machineLine() {
  const others = (() => {
    try {
      return execFileSync('sh', ['-c', "ps -eo args= | grep -E '(^| |/)(vitest|tsc)( |$)' | grep -v grep | wc -l"], { encoding: 'utf8' }).trim();
    } catch {
      return '?';
    }
  })();
  return `${cpus().length} CPUs (${cpus()[0]?.model.trim() ?? '?'}), load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}, ${others} vitest/tsc process(es) running alongside`;
}

// ---------------------------------------------------------------------------
// Node-side CPU, measured from the host through /proc (the lab's nodes are
// namespaces on this machine). A node's sshd listener is a child of the
// node's PID 1; every session it serves is a child of it, and when a session
// ends and is reaped, the kernel adds the CPU of that session's whole process
// tree (sshd, the shell, every command it ran) to the listener's
// cutime+cstime. The delta over a collection is what the collection cost the
// node, sshd's crypto included. dockerd does work for the script too (the
// `docker info` / `docker version` calls): its own CPU delta is reported
// apart, since it includes a little background work (gossip, heartbeats).

const TICK_MS = (() => {
  try {
    return 1000 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
  } catch {
    return 10;
  }
})();

function procCpu(pid) {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after "pid (comm) ": f[0] is field 3 (state); utime, stime, cutime, cstime are fields 14-17.
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return { self: (Number(f[11]) + Number(f[12])) * TICK_MS, reaped: (Number(f[13]) + Number(f[14])) * TICK_MS };
}

const childrenOf = (pid) => {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
};

const comm = (pid) => {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
};

/** Host PIDs of a lab node's sshd listener and dockerd (children of its PID 1). */
function nodeDaemons(pid1) {
  const kids = childrenOf(pid1);
  return { sshd: kids.find((k) => comm(k) === 'sshd') ?? null, dockerd: kids.find((k) => comm(k) === 'dockerd') ?? null };
}

const fileSize = (f) => {
  try {
    return statSync(f).size;
  } catch {
    return 0;
  }
};

function readFrom(file, offset) {
  let fd;
  try {
    fd = openSync(file, 'r');
    const len = Math.max(0, statSync(file).size - offset);
    const buf = Buffer.alloc(len);
    readSync(fd, buf, 0, len, offset);
    return buf.toString('utf8');
  } catch {
    return '';
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Host path of a lab node's sshd log (swarm node ndK or SSH-only node nsK). */
export const sshdLogOf = (lab, name) => `${lab.dir}/${/^ns\d+$/.test(name) ? 'ssh-nodes' : 'nodes'}/${name}/sshd.log`;

/**
 * Meter one lab node over a collection: start() before, await stop() after.
 * stop() waits (up to 3 s) until the sessions opened since start() are gone
 * and reaped, then returns
 *   sessionCpuMs  CPU of the sshd listener and every session it reaped,
 *   dockerdCpuMs  dockerd's own CPU over the same window (null: no dockerd),
 *   logConnections  TCP connections from the host that sshd logged in the
 *                   window (all clients: others using the lab count too),
 *   complete      false if a session was still alive or sshd restarted.
 */
export function nodeMeter(lab, node) {
  const log = sshdLogOf(lab, node.name);
  let b = null;
  return {
    start() {
      const d = nodeDaemons(node.pid);
      b = {
        d,
        sshd: d.sshd ? procCpu(d.sshd) : null,
        dockerd: d.dockerd ? procCpu(d.dockerd).self : null,
        kids: new Set(d.sshd ? childrenOf(d.sshd) : []),
        logSize: fileSize(log),
      };
    },
    async stop() {
      let complete = b.d.sshd !== null;
      if (complete) {
        const deadline = Date.now() + 3000;
        while (childrenOf(b.d.sshd).some((k) => !b.kids.has(k))) {
          if (Date.now() > deadline) {
            complete = false;
            break;
          }
          await sleep(5);
        }
      }
      const d = nodeDaemons(node.pid);
      if (d.sshd !== b.d.sshd) complete = false;
      let sessionCpuMs = NaN;
      if (complete) {
        const a = procCpu(d.sshd);
        sessionCpuMs = a.self - b.sshd.self + (a.reaped - b.sshd.reaped);
      }
      const dockerdCpuMs = b.dockerd !== null && d.dockerd === b.d.dockerd ? procCpu(d.dockerd).self - b.dockerd : null;
      const ports = new Set();
      for (const m of readFrom(log, b.logSize).matchAll(/\b(?:from|by) (\d+\.\d+\.\d+\.\d+) port (\d+)/g)) {
        if (m[1] === lab.gateway) ports.add(m[2]);
      }
      return { sessionCpuMs, dockerdCpuMs, logConnections: ports.size, complete };
    },
  };
}

/**
 * Established TCP connections from this process to port 22, seen by polling
 * `ss -tnp` from a child process (so the poll does not stall our event
 * loop): start() resolves once the first poll is done; stop() returns a Map
 * node IP → number of distinct connections (local ports) seen. Polling costs
 * CPU: use it in a run of its own, not in a timed one.
 */
export function watchConnections(pid = process.pid) {
  // Its own process group, so that stop() ends the loop and any ss/sleep in flight.
  const child = spawn('sh', ['-c', `while :; do ss -tnpH state established '( dport = :22 )'; echo .; sleep 0.02; done`], {
    stdio: ['ignore', 'pipe', 'ignore'],
    detached: true,
  });
  const seen = new Map();
  let buf = '';
  let polls = 0;
  let firstPoll;
  const ready = new Promise((r) => (firstPoll = r));
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk) => {
    buf += chunk;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line === '.') {
        polls++;
        firstPoll();
        continue;
      }
      const m = /^\s*\d+\s+\d+\s+\S+:(\d+)\s+(\d+\.\d+\.\d+\.\d+):22\s.*\bpid=(\d+),/.exec(line);
      if (m && Number(m[3]) === pid) {
        if (!seen.has(m[2])) seen.set(m[2], new Set());
        seen.get(m[2]).add(m[1]);
      }
    }
  });
  return {
    start: () => ready,
    async stop() {
      // One more full poll after the work, then stop.
      const target = polls + 2;
      const deadline = Date.now() + 2000;
      while (polls < target && Date.now() < deadline) await sleep(10);
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
      return { polls, connections: new Map([...seen].map(([ip, ports]) => [ip, ports.size])) };
    },
  };
}

/** CPU of a process and every descendant alive now, each with what it reaped (ms). */
function treeCpu(pid) {
  let sum = 0;
  try {
    const c = procCpu(pid);
    sum += c.self + c.reaped;
  } catch {
    return sum; // gone
  }
  for (const k of childrenOf(pid)) sum += treeCpu(k);
  return sum;
}

/**
 * Meter what runs on one lab node over open sessions (the probe stage):
 * start() and stop() while the sessions stay open. The sessions' processes
 * (sshd per connection and everything under it) are summed live, with what
 * each reaped, so the sessions' earlier work (their collection) cancels out;
 * the listener itself is left out. ms; NaN without an sshd.
 */
export function openSessionMeter(node) {
  let sshd = null;
  let before = NaN;
  const sessions = () => childrenOf(sshd).reduce((s, k) => s + treeCpu(k), 0);
  return {
    start() {
      sshd = nodeDaemons(node.pid).sshd;
      before = sshd === null ? NaN : sessions();
    },
    stop() {
      return sshd === null ? NaN : sessions() - before;
    },
  };
}

/**
 * Every swarm node of the lab collected in process, as `check` does (this
 * build's dist/), each SSH session kept open for probes over it: the caller
 * closes `sessions`. For benches and recording scripts that run the probe
 * stage on their own.
 */
export async function collectLab(lab) {
  const Dockerode = (await import('dockerode')).default;
  const { collectClusterFacts, collectNode } = await import('../dist/collect/collect.js');
  const { resolveTargets } = await import('../dist/ssh/config.js');
  const { buildNodeSnapshot } = await import('../dist/snapshot/node.js');
  const manager = lab.nodes.find((n) => n.role === 'manager');
  const facts = await collectClusterFacts(new Dockerode({ socketPath: manager.dockerSocket }));
  const ssh = { identity: lab.sshKey, knownHostsFile: lab.knownHosts, sshConfigFile: 'none', user: 'root' };
  const targets = await resolveTargets(facts.nodes, ssh);
  const sessions = new Map();
  const opts = { ssh, concurrency: 64, connectTimeoutMs: 10_000, nodeTimeoutMs: 60_000 };
  const results = await Promise.all(targets.map((t) => collectNode(t, null, facts, opts, (s) => sessions.set(t.node, s))));
  return { facts, snapshot: { cluster: facts, nodes: results.map((r) => buildNodeSnapshot(r, facts.networks)) }, sessions };
}
