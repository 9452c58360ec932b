import { resolve } from 'node:path';
import { Flags } from '@oclif/core';
import { NetdoctorCommand } from '../../base-command.js';
import { describeRun, RunLog } from '../../bundle/runlog.js';
import { parseSince } from '../../bundle/since.js';
import { collectOptionsFromFlags, nodeFlags, probeFlags, sinceFlag } from '../../flags.js';
import type { ProbePairsMode } from '../../probe/options.js';
import type { BundleManifest } from '../../bundle/format.js';

export default class Bundle extends NetdoctorCommand {
  static override summary = 'Write a support bundle: everything netdoctor saw and found, in one .tar.gz';
  static override description = `Runs exactly what \`check\` runs (discover, collect every node over SSH, probe,
analyse) and writes one gzip tar holding: the snapshot (probe results
included), the report (JSON and Markdown), every raw section each node
returned (nodes/<node>/host/…, nodes/<node>/netns/<sandbox>/…), the tail of
dockerd's log on each node, the manager's API answers (info, swarm, nodes,
services, tasks, and \`network inspect --verbose\` of every swarm network),
netdoctor's own log of the run, and a manifest with a sha256 of every file.

Secrets stay out (SECURITY.md): IPsec and gossip keys, tokens, Env arrays of
debug log lines and logging-driver options (log-opts, --log-opt) are cut on
the nodes; join tokens are dropped and environment values and logging-driver
options of services, tasks and TaskDefaults redacted from the API answers;
journald gives dockerd's own entries only; no key file is ever read.
--redact-ips also replaces IP addresses, hostnames and SSH jump hosts with
consistent pseudonyms in every file.

Analyse it anywhere, without a swarm: \`docker netdoctor check --from-bundle FILE\`;
summarise it: \`docker netdoctor bundle inspect FILE\`.`;
  static override examples = [
    'docker netdoctor bundle',
    'docker netdoctor bundle -o support.tar.gz --since 2h --redact-ips',
    'docker netdoctor bundle --no-probe --log-lines 200 --node worker-2',
  ];
  static override flags = {
    ...nodeFlags,
    output: Flags.string({ char: 'o', description: 'Bundle file to write (default: netdoctor-<cluster id>-<UTC time>.tar.gz here)' }),
    ...probeFlags,
    'log-lines': Flags.integer({ description: "Lines of dockerd's log to take from each node (0: none)", default: 1000, min: 0 }),
    since: sinceFlag("Only dockerd's and the kernel's log lines"),
    'redact-ips': Flags.boolean({
      description: 'Replace IP addresses (prefix-preserving), Docker MACs, hostnames and SSH jump hosts with consistent pseudonyms in every file',
    }),
  };

  async run(): Promise<BundleManifest> {
    const { flags } = await this.parse(Bundle);
    const startedAt = new Date();
    const since = flags.since === undefined ? undefined : parseSince(flags.since, startedAt);
    const log = new RunLog();
    const collect = collectOptionsFromFlags(flags, (m) => {
      log.warn(m);
      this.warn(m);
    });
    collect.script = flags['log-lines'] > 0 ? { dockerLog: { lines: flags['log-lines'], ...(since !== undefined ? { since } : {}) } } : {};
    const { docker, endpoint } = await this.manager();
    const { runCheck } = await import('../../run/check.js');
    const { buildBundle, defaultBundleName, writeBundleFile } = await import('../../bundle/write.js');
    const { snapshot, report } = await runCheck(docker, endpoint, {
      collect,
      probe: flags.probe ? { timeoutSec: flags['probe-timeout'], pairs: flags['probe-pairs'] as ProbePairsMode } : null,
      selection: flags.node ? { nodes: flags.node } : {},
      progress: { silent: false },
      toolVersion: this.config.version,
    });
    const endedAt = new Date();
    const argv = process.argv.slice(2);
    describeRun(log, {
      argv,
      toolVersion: this.config.version,
      startedAt,
      endedAt,
      options: [
        flags.probe ? `probes on (timeout ${flags['probe-timeout']} s)` : 'probes off',
        flags['log-lines'] > 0
          ? `docker log: last ${flags['log-lines']} lines${since !== undefined ? ` since ${new Date(since * 1000).toISOString()}` : ''}`
          : 'docker log: not taken',
        flags['redact-ips'] ? 'IPs and hostnames pseudonymised' : 'IPs and hostnames as collected',
        `concurrency ${flags.concurrency}, connect timeout ${flags['connect-timeout']} s, node timeout ${flags['node-timeout']} s`,
      ],
      snapshot,
      report,
    });
    const built = buildBundle({
      snapshot,
      report,
      log: log.render(startedAt),
      argv,
      toolVersion: this.config.version,
      startedAt,
      endedAt,
      redactIps: flags['redact-ips'] === true,
    });
    const file = resolve(flags.output ?? defaultBundleName(snapshot.cluster.swarmId, startedAt));
    await writeBundleFile(file, built.data);
    const scrubbed = Object.entries(built.scrubbed);
    if (scrubbed.length > 0) this.warn(`cut from the bundle as a precaution: ${scrubbed.map(([k, n]) => `${n} ${k}`).join(', ')}`);
    const s = report.summary;
    const failed = snapshot.nodes.filter((n) => n.status !== 'ok');
    this.logToStderr(
      `bundle written to ${flags.output ?? file}: ${built.files.length} files, ${(built.data.length / 1024).toFixed(0)} KiB; ` +
        `${s.fail} failed, ${s.warn} warnings, ${s.error} errors` +
        (failed.length ? `; incomplete: ${failed.map((n) => `${n.name} (${n.errors[0]?.message ?? n.status})`).join(', ')}` : ''),
    );
    return built.manifest;
  }
}
