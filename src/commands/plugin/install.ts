import { join } from 'node:path';
import { Flags } from '@oclif/core';
import { NetdoctorCommand } from '../../base-command.js';
import { pluginDir, installPluginLink, type LinkResult } from '../../install/plugin-link.js';
import { dockerGlobals } from '../../plugin/globals.js';

export default class PluginInstall extends NetdoctorCommand {
  static override summary = "Make `docker netdoctor` available: link this executable into docker's cli-plugins directory";
  static override description = `Creates $DOCKER_CONFIG/cli-plugins/docker-netdoctor (default ~/.docker/cli-plugins)
as a symlink to this installation's bin/docker-netdoctor. Afterwards \`docker info\`
lists the plugin and \`docker netdoctor\` runs it.`;
  static override examples = ['docker-netdoctor plugin install', 'docker-netdoctor plugin install --dir /usr/local/lib/docker/cli-plugins'];
  static override enableJsonFlag = true;
  static override flags = {
    dir: Flags.string({ description: 'cli-plugins directory to install into (default: $DOCKER_CONFIG/cli-plugins)' }),
    force: Flags.boolean({ description: 'Replace an existing docker-netdoctor that is not ours' }),
  };

  async run(): Promise<LinkResult> {
    const { flags } = await this.parse(PluginInstall);
    const dir = pluginDir(flags.dir, dockerGlobals().config);
    const res = await installPluginLink(dir, join(this.config.root, 'bin', 'docker-netdoctor'), flags.force);
    this.log(res.changed ? `installed: ${res.path} -> ${res.target}` : `already installed: ${res.path}`);
    return res;
  }
}
