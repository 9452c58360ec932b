import { join } from 'node:path';
import { Flags } from '@oclif/core';
import { NetdoctorCommand } from '../../base-command.js';
import { pluginDir, uninstallPluginLink, type LinkResult } from '../../install/plugin-link.js';
import { dockerGlobals } from '../../plugin/globals.js';

export default class PluginUninstall extends NetdoctorCommand {
  static override summary = "Remove the docker-netdoctor link from docker's cli-plugins directory";
  static override examples = ['docker-netdoctor plugin uninstall'];
  static override enableJsonFlag = true;
  static override flags = {
    dir: Flags.string({ description: 'cli-plugins directory (default: $DOCKER_CONFIG/cli-plugins)' }),
    force: Flags.boolean({ description: 'Remove docker-netdoctor even if it is not a link to this installation' }),
  };

  async run(): Promise<LinkResult> {
    const { flags } = await this.parse(PluginUninstall);
    const dir = pluginDir(flags.dir, dockerGlobals().config);
    const res = await uninstallPluginLink(dir, join(this.config.root, 'bin', 'docker-netdoctor'), flags.force);
    this.log(res.changed ? `removed: ${res.path}` : `not installed: ${res.path}`);
    return res;
  }
}
