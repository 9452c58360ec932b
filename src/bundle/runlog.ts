/**
 * netdoctor.log: what the run did, for whoever reads the bundle. Built from
 * the run itself (its options, warnings as they came, and the snapshot and
 * report it produced): stages with their times, per node how collection went
 * and which sections failed, probes, findings. Not a debug dump.
 */
import type { Report } from '../report/model.js';
import { where } from '../report/model.js';
import type { ClusterSnapshot, NodeSnapshot } from '../snapshot/types.js';

export interface RunEvent {
  at: Date;
  level: 'info' | 'warn' | 'error';
  stage: string;
  message: string;
}

export class RunLog {
  readonly events: RunEvent[] = [];

  add(stage: string, message: string, level: RunEvent['level'] = 'info', at: Date = new Date()): void {
    this.events.push({ at, level, stage, message });
  }

  warn(message: string, at: Date = new Date()): void {
    this.add('warning', message, 'warn', at);
  }

  render(start: Date): string {
    const sorted = this.events.map((e, i) => ({ e, i })).sort((a, b) => a.e.at.getTime() - b.e.at.getTime() || a.i - b.i);
    return `${sorted
      .map(({ e }) => {
        const offset = ((e.at.getTime() - start.getTime()) / 1000).toFixed(3).padStart(8);
        return `${e.at.toISOString()} +${offset}s ${e.level.toUpperCase().padEnd(5)} [${e.stage}] ${e.message}`;
      })
      .join('\n')}\n`;
  }
}

const ms = (v: number | null | undefined): string => (v === null || v === undefined ? '-' : `${Math.round(v)} ms`);

function nodeLines(n: NodeSnapshot): { level: RunEvent['level']; message: string }[] {
  const t = n.timings;
  const overlays = n.sandboxes.filter((s) => s.kind === 'overlay').length;
  const out: { level: RunEvent['level']; message: string }[] = [
    {
      level: n.status === 'ok' ? 'info' : 'error',
      message:
        `${n.name} (${n.target.user}@${n.target.host}:${n.target.port}${n.target.via.length ? ` via ${n.target.via.join(',')}` : ''}): ${n.status} in ${ms(t.totalMs)} ` +
        `(connect ${ms(t.connectMs)}, script ${ms(t.execMs)}, node CPU ${ms(t.nodeCpuMs)}); ` +
        `${Object.keys(n.raw).length} sections, ${n.sandboxes.length} sandboxes (${overlays} overlay), namespaces ${n.sandboxAccess}`,
    },
  ];
  for (const e of n.errors) out.push({ level: 'error', message: `${n.name}: ${e.stage}/${e.kind}: ${e.message}` });
  const failed = Object.entries(n.raw).filter(([, s]) => s.rc !== 0 || s.truncated);
  if (failed.length > 0) {
    out.push({
      level: 'info',
      message: `${n.name}: ${failed.length} section(s) exited non-zero or were cut short: ${failed
        .map(([name, s]) => `${name} (${s.truncated ? 'truncated' : `exit ${s.rc}`}${s.stderr ? `: ${s.stderr.split('\n')[0]!.slice(0, 120)}` : ''})`)
        .join('; ')}`,
    });
  }
  const log = n.raw['host/docker-log'];
  if (log)
    out.push({
      level: 'info',
      message: `${n.name}: ${log.stderr.split('\n')[0] || 'docker log'}: ${log.stdout.trimEnd() === '' ? 0 : log.stdout.trimEnd().split('\n').length} lines`,
    });
  return out;
}

export interface RunFacts {
  argv: string[];
  toolVersion: string;
  startedAt: Date;
  endedAt: Date;
  options: string[];
  snapshot: ClusterSnapshot;
  report: Report;
}

/** Add the stages of a finished run to `log` (which may already hold warnings). */
export function describeRun(log: RunLog, f: RunFacts): RunLog {
  const s = f.snapshot;
  const c = s.cluster;
  const start = f.startedAt;
  log.add('start', `docker-netdoctor ${f.toolVersion}: ${f.argv.join(' ')}`, 'info', start);
  log.add('start', `options: ${f.options.join(', ')}`, 'info', start);
  log.add('start', `endpoint ${s.endpoint.host} (context ${s.endpoint.context})`, 'info', start);
  // Stage times we know: the run's start, the end of collection (when the
  // snapshot was assembled), the probes' start, and the end of the run.
  const discovered = start;
  log.add(
    'discover',
    `cluster ${c.swarmId ?? '?'}: ${c.nodes.length} nodes (${c.nodes.map((n) => `${n.name} ${n.role} ${n.state}`).join(', ')}), ` +
      `${c.networks.filter((n) => n.driver === 'overlay').length} overlay networks, ${c.services.length} services, manager ${c.managerNode ?? '?'}, data path port ${c.dataPathPort}`,
    'info',
    discovered,
  );
  const collected = new Date(new Date(s.startedAt).getTime() + s.durationMs);
  for (const n of s.nodes) for (const l of nodeLines(n)) log.add('collect', l.message, l.level, collected);
  const skipped = c.nodes.filter((n) => !s.nodes.some((x) => x.name === n.name));
  if (skipped.length > 0) log.add('collect', `not selected: ${skipped.map((n) => n.name).join(', ')}`, 'info', collected);
  if (s.probes) {
    const p = s.probes;
    const all = [...p.ports, ...p.mtu, ...p.dataPath];
    const count = (st: string) => all.filter((x) => x.state === st).length;
    const at = new Date(p.startedAt);
    log.add(
      'probe',
      `${all.length} probes in ${(p.durationMs / 1000).toFixed(1)} s: ${count('ok')} ok, ${count('blocked')} blocked, ${count('unconfirmed')} unconfirmed`,
      'info',
      at,
    );
    for (const x of all.filter((y) => y.state !== 'ok')) {
      const what =
        'proto' in x ? `${x.proto}${x.port === null ? '' : `/${x.port}`}` : 'payload' in x ? `mtu ${x.required}` : `data path ${x.network}`;
      log.add('probe', `${x.from} → ${x.to} ${what}: ${x.state}: ${x.detail}`, 'info', at);
    }
    for (const e of p.errors) log.add('probe', `${e.node}: ${e.message}`, 'error', at);
  } else {
    log.add('probe', 'skipped (--no-probe)', 'info', collected);
  }
  const r = f.report;
  const sm = r.summary;
  const analysed = f.endedAt;
  log.add(
    'analyse',
    `${r.findings.length} findings: ${sm.fail} failed, ${sm.warn} warnings, ${sm.error} errors, ${sm.pass} passed, ${sm.skip} skipped`,
    'info',
    analysed,
  );
  for (const x of r.findings.filter((y) => y.status === 'fail' || y.status === 'error' || y.status === 'warn')) {
    log.add('analyse', `${x.status} ${x.id}${where(x) ? ` [${where(x)}]` : ''}`, 'info', analysed);
  }
  log.add('end', `run took ${((f.endedAt.getTime() - start.getTime()) / 1000).toFixed(1)} s`, 'info', f.endedAt);
  return log;
}
