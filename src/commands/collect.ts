import { writeFile } from 'node:fs/promises';
import { Flags } from '@oclif/core';
import { NetdoctorCommand } from '../base-command.js';
import { collectOptionsFromFlags, nodeFlags } from '../flags.js';
import type { ClusterSnapshot } from '../snapshot/types.js';

export default class Collect extends NetdoctorCommand {
  static override summary = "Collect a snapshot of the swarm's networking from the manager and every node (over SSH)";
  static override description = `Asks the manager for the cluster's nodes, networks (verbose: peers and
task endpoints), services and tasks, then opens one SSH connection per node
and runs one read-only script: host facts, kernel modules, sysctls, iptables,
interfaces, listening sockets, and every docker network namespace (links,
addresses, routes, FDB, neighbours; iptables and IPVS in ingress and lb
sandboxes). Nothing is written on the nodes. Nodes that cannot be reached are
recorded with the reason; the others complete.

The snapshot is what \`check\` analyses and what a support bundle contains.`;
  static override examples = [
    'docker netdoctor collect -o snapshot.json',
    'docker netdoctor collect --node nd2 --identity ~/.ssh/swarm_ed25519',
    'docker --context prod netdoctor collect --inventory nodes.yaml -o prod.json',
  ];
  static override flags = {
    ...nodeFlags,
    output: Flags.string({ char: 'o', description: 'Write the snapshot JSON to this file (default: stdout)' }),
  };

  async run(): Promise<ClusterSnapshot> {
    const { flags } = await this.parse(Collect);
    const { docker, endpoint } = await this.manager();
    const toStdout = !flags.output;
    const opts = collectOptionsFromFlags(flags, (m) => this.warn(m));
    const { runCollect } = await import('../run/check.js');
    const snapshot = await runCollect(docker, endpoint, this.config.version, opts, { silent: toStdout });
    const json = `${JSON.stringify(snapshot, null, 2)}\n`;
    if (flags.output) {
      await writeFile(flags.output, json);
      const failed = snapshot.nodes.filter((n) => n.status !== 'ok');
      this.logToStderr(
        `snapshot of ${snapshot.nodes.length} nodes written to ${flags.output}` +
          (failed.length ? `; incomplete: ${failed.map((n) => `${n.name} (${n.errors[0]?.message ?? n.status})`).join(', ')}` : ''),
      );
    } else {
      process.stdout.write(json);
    }
    return snapshot;
  }
}
