/**
 * oclif help with the sections every netdoctor page needs: exit codes, and
 * (on the root page) how docker's global flags are honoured.
 */
import { Command, Help } from '@oclif/core';
import { DOCKER_GLOBALS_HELP, EXIT_CODES_HELP } from './plugin/exit-codes-help.js';

export default class NetdoctorHelp extends Help {
  override formatRoot(): string {
    return `${super.formatRoot()}\n\n${DOCKER_GLOBALS_HELP}\n\n${EXIT_CODES_HELP}`;
  }

  override formatCommand(command: Command.Loadable): string {
    return `${super.formatCommand(command)}\n\n${EXIT_CODES_HELP}`;
  }
}
