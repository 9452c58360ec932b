import { Flags } from '@oclif/core';
import { NetdoctorCommand } from '../base-command.js';
import { selectChecks } from '../checks/registry.js';
import type { CheckMeta } from '../checks/types.js';
import { catalogueMarkdown, catalogueText } from '../report/catalogue.js';

export default class Checks extends NetdoctorCommand {
  static override summary = 'List the check catalogue: stable ids, layers, what each looks at and how to fix it';
  static override description = `Ids are stable and hierarchical (layer.topic.name); --only and --skip of
\`check\` take an id, an id prefix (overlay.fdb) or a layer (overlay).`;
  static override examples = ['docker netdoctor checks', 'docker netdoctor checks --only overlay --json', 'docker netdoctor checks --markdown'];
  static override enableJsonFlag = true;
  static override flags = {
    only: Flags.string({ description: 'Only these: id, id prefix or layer; repeatable', multiple: true }),
    markdown: Flags.boolean({ description: 'Print the catalogue as Markdown tables' }),
  };

  async run(): Promise<CheckMeta[]> {
    const { flags } = await this.parse(Checks);
    const checks = selectChecks({ ...(flags.only ? { only: flags.only } : {}), stack: true });
    if (!this.jsonEnabled()) this.log(flags.markdown ? catalogueMarkdown(checks) : catalogueText(checks));
    return checks.map((c) => c.meta);
  }
}
