import { Flags } from '@oclif/core';
import { NetdoctorCommand } from '../base-command.js';
import { ExitCode } from '../errors.js';
import { collectOptionsFromFlags, nodeFlags, probeFlags, sinceWindowFlag } from '../flags.js';
import type { ProbePairsMode } from '../probe/options.js';
import { failureReport, reportFailed, type Report } from '../report/model.js';
import { emitReport } from '../report/emit.js';
import { FORMATS, type Format } from '../report/render.js';
import { runGate } from '../run/gate.js';
import { defaultStackName } from '../stack/normalise.js';

export default class Gate extends NetdoctorCommand {
  static override summary = "Pre-deploy gate: will this stack's networking work here, now?";
  static override description = `Reads the stack exactly as \`docker stack deploy\` will (\`docker stack config\`:
files merged, \${VAR} interpolated from the environment), plans it against the
swarm (subnets, ports, placement, external and encrypted networks) and, unless
--no-live, runs the checks on the nodes the stack can land on, with probes
between them. Only what the stack depends on says no-go; problems elsewhere
are warnings that say why they do not block.

Exit 0 go, 1 no-go, 2 bad input (unreadable or invalid stack file), 3 cannot
run (no manager, no docker CLI to read the file). With GITHUB_ACTIONS=true
and no --format, findings are GitHub annotations on the file and line.`;
  static override examples = [
    'docker netdoctor gate -c docker-stack.yml && docker stack deploy -c docker-stack.yml app',
    'docker netdoctor gate -c docker-stack.yml -c prod.yml --stack app --no-live',
    'docker netdoctor gate -c docker-stack.yml --format junit --output gate.xml',
  ];
  static override flags = {
    ...nodeFlags,
    'compose-file': Flags.string({
      char: 'c',
      description: 'Stack file, as for docker stack deploy; repeatable (later files override)',
      multiple: true,
      required: true,
    }),
    stack: Flags.string({ description: "Stack name (as given to docker stack deploy; default: the first file's folder)" }),
    live: Flags.boolean({
      description: 'Check the nodes the stack can land on (SSH, probes); --no-live uses the manager API only',
      default: true,
      allowNo: true,
    }),
    ...probeFlags,
    format: Flags.string({ description: 'Report format (default text; github when GITHUB_ACTIONS=true)', options: [...FORMATS] }),
    output: Flags.string({ char: 'o', description: 'Write the report to this file instead of stdout (written on every exit path)' }),
    strict: Flags.boolean({ description: 'Warnings are no-go too' }),
    since: sinceWindowFlag("Live: the log layer reads dockerd's and the kernel's lines"),
    verbose: Flags.boolean({ char: 'v', description: 'List passing checks in the text report too' }),
  };

  async run(): Promise<Report> {
    const { flags } = await this.parse(Gate);
    const format = (flags.format ?? (process.env.GITHUB_ACTIONS === 'true' ? 'github' : 'text')) as Format;
    const machine = format !== 'text' && !flags.output;
    const emit = (report: Report) => emitReport(report, format, flags);
    const files = flags['compose-file'];
    const started = new Date();
    const collect = collectOptionsFromFlags(flags, (m) => this.warn(m));
    if (flags.live) {
      // Bad input before any connection: exit 2 with one line. --no-live reads no log.
      const { parseSince } = await import('../bundle/since.js');
      const { LOG_DEFAULTS } = await import('../collect/script.js');
      collect.script = { dockerLog: { lines: LOG_DEFAULTS.lines, bytes: LOG_DEFAULTS.bytes, since: parseSince(flags.since) } };
    }
    let report: Report;
    try {
      ({ report } = await runGate(() => this.manager(), {
        files,
        stackName: flags.stack ?? defaultStackName(files[0]!),
        live: flags.live,
        collect,
        probe: flags.live && flags.probe ? { timeoutSec: flags['probe-timeout'], pairs: flags['probe-pairs'] as ProbePairsMode } : null,
        progress: { silent: machine },
        toolVersion: this.config.version,
      }));
    } catch (err) {
      if (flags.output) await emit(failureReport(err, this.config.version, started));
      throw err;
    }
    await emit(report);
    if (reportFailed(report, flags.strict)) process.exitCode = ExitCode.Findings;
    return report;
  }
}
