import { Flags, type Interfaces } from '@oclif/core';
import { NetdoctorCommand } from '../base-command.js';
import { ExitCode } from '../errors.js';
import { collectOptionsFromFlags, nodeFlags, probeFlags, sinceWindowFlag } from '../flags.js';
import type { ProbePairsMode } from '../probe/options.js';
import { emitReport } from '../report/emit.js';
import { FORMATS, type Format } from '../report/render.js';
import { buildReport, failureReport, reportFailed, type Report } from '../report/model.js';
import type { Selection } from '../checks/registry.js';

export default class Check extends NetdoctorCommand {
  static override summary = "Diagnose the swarm's networking layer by layer (the default command)";
  static override description = `Discovers the cluster from the manager, connects to every node over SSH,
collects its networking state, probes the underlay and the overlay data path
between every pair of nodes, runs the layered checks (cluster, host,
underlay, overlay, service) and reports every warning and failure with the
node or node pair and the command that fixes it.

Probes are read-only and bounded in time: TCP connects to 2377/7946, UDP
datagrams to 7946 and the data-path port (confirmed by a short capture on the
receiving node), DF pings for the path MTU, pings from each node's
load-balancer sandbox to a task on every peer over the overlay, and, between
nodes that share an encrypted overlay, ESP packets (IP protocol 50, an SPI no
SA uses, confirmed by the same capture).

Exit 0 when nothing failed (warnings too with --strict), 1 when a check
failed, 2 on usage errors, 3 when the cluster cannot be reached at all.`;
  static override examples = [
    'docker netdoctor',
    'docker netdoctor check --format junit --output netdoctor.xml',
    'docker netdoctor check --only overlay --network web_net --node worker-2',
    'docker netdoctor check --from-snapshot snapshot.json --format markdown',
    'docker netdoctor check --from-bundle netdoctor-abc-20260131T100000Z.tar.gz',
  ];
  static override flags = {
    ...nodeFlags,
    format: Flags.string({ description: 'Report format', options: [...FORMATS], default: 'text' }),
    output: Flags.string({ char: 'o', description: 'Write the report to this file instead of stdout (written on every exit path)' }),
    since: sinceWindowFlag("The log layer reads dockerd's and the kernel's lines"),
    strict: Flags.boolean({ description: 'Warnings fail too (exit 1)' }),
    ...probeFlags,
    only: Flags.string({ description: 'Only these checks: id, id prefix or layer; repeatable', multiple: true }),
    skip: Flags.string({ description: 'Skip these checks: id, id prefix or layer; repeatable', multiple: true }),
    network: Flags.string({ description: 'Only findings about this network (by name); repeatable', multiple: true }),
    'from-snapshot': Flags.file({ description: 'Analyse a snapshot written by `collect` (or recorded by a bundle) instead of the live cluster' }),
    // No `exists`: a missing file is a bad bundle like any other (one line, exit 2).
    'from-bundle': Flags.file({
      description:
        'Analyse a support bundle (`bundle`) instead of the live cluster: every check, on its snapshot and recorded probe results; nothing touches the network',
      exclusive: ['from-snapshot'],
    }),
    verbose: Flags.boolean({
      char: 'v',
      description:
        "List passing checks in the text report too, and print each node's resolved SSH target (host, port, user, keys, known hosts, jump hosts) with where each value came from",
    }),
  };

  async run(): Promise<Report> {
    const { flags } = await this.parse(Check);
    const format = flags.format as Format;
    const machine = format !== 'text' && !flags.output;
    const selection = {
      ...(flags.only ? { only: flags.only } : {}),
      ...(flags.skip ? { skip: flags.skip } : {}),
      ...(flags.network ? { networks: flags.network } : {}),
      ...(flags.node ? { nodes: flags.node } : {}),
    };
    const emit = (report: Report) => emitReport(report, format, flags);

    let report: Report;
    const started = new Date();
    try {
      report = await this.produce(flags, selection, machine);
    } catch (err) {
      // CI gets a report file even when the run could not start (no daemon, a
      // worker endpoint, a bad bundle): one error finding saying why.
      if (flags.output) await emit(failureReport(err, this.config.version, started));
      throw err;
    }
    await emit(report);
    if (!machine && flags.output) this.logToStderr(`report written to ${flags.output}`);
    if (reportFailed(report, flags.strict)) process.exitCode = ExitCode.Findings;
    return report;
  }

  private async produce(flags: Interfaces.InferredFlags<typeof Check.flags>, selection: Selection, machine: boolean): Promise<Report> {
    let report: Report;
    // Each path loads only what it uses: no SSH or progress code offline, no tar reader live.
    if (flags['from-snapshot'] || flags['from-bundle']) {
      const started = new Date();
      const { analyse } = await import('../run/analyse.js');
      const snapshot = flags['from-bundle']
        ? (await (await import('../bundle/read.js')).readBundle(flags['from-bundle'])).snapshot
        : await (await import('../snapshot/io.js')).readSnapshot(flags['from-snapshot']!);
      report = buildReport(snapshot, analyse(snapshot, selection), this.config.version, started, Date.now() - started.getTime());
    } else {
      // Bad input before any connection: exit 2 with one line.
      const { parseSince } = await import('../bundle/since.js');
      const { LOG_DEFAULTS } = await import('../collect/script.js');
      const since = parseSince(flags.since);
      // The run's modules load while the daemon answers GET /info.
      let loading: Promise<typeof import('../run/check.js')> | undefined;
      const { docker, endpoint } = await this.manager(() => {
        loading = import('../run/check.js');
        loading.catch(() => undefined);
        if (!machine) import('../report/progress.js').catch(() => undefined);
      });
      const collect = collectOptionsFromFlags(flags, (m) => this.warn(m));
      collect.script = { dockerLog: { lines: LOG_DEFAULTS.lines, bytes: LOG_DEFAULTS.bytes, since } };
      if (flags.verbose) {
        const { describeResolution } = await import('../ssh/config.js');
        collect.events = { ...collect.events, onTargets: (ts) => ts.forEach((t) => describeResolution(t).forEach((l) => this.logToStderr(l))) };
      }
      const { runCheck } = await (loading ?? import('../run/check.js'));
      const result = await runCheck(docker, endpoint, {
        collect,
        probe: flags.probe ? { timeoutSec: flags['probe-timeout'], pairs: flags['probe-pairs'] as ProbePairsMode } : null,
        selection,
        progress: { silent: machine },
        toolVersion: this.config.version,
      });
      report = result.report;
    }
    return report;
  }
}
