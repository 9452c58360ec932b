import { Flags } from '@oclif/core';
import { NetdoctorCommand } from '../base-command.js';
import { listNodes } from '../cluster/list-nodes.js';
import { renderNodesTable } from '../report/nodes-table.js';
import type { NodeSummary } from '../cluster/nodes.js';

export default class Nodes extends NetdoctorCommand {
  static override summary = 'List the swarm nodes netdoctor will diagnose, with the addresses it will use';
  static override description = `Asks the swarm manager at the docker endpoint (as the docker CLI resolves it)
for its nodes: name, id, role, manager reachability and leader, availability,
state, advertise address, engine version and the address netdoctor will SSH to.`;
  static override examples = [
    '<%= config.bin %> nodes',
    'docker --context prod netdoctor nodes --json',
    'docker -H unix:///var/run/docker.sock netdoctor nodes --no-header',
  ];
  static override enableJsonFlag = true;
  static override flags = {
    'no-header': Flags.boolean({ description: 'Omit the table header' }),
  };

  async run(): Promise<NodeSummary[]> {
    const { flags } = await this.parse(Nodes);
    const { docker } = await this.manager();
    const nodes = await listNodes(docker);
    if (!this.jsonEnabled()) this.log(renderNodesTable(nodes, { header: !flags['no-header'] }));
    return nodes;
  }
}
