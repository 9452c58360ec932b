import { ExitCode } from '../errors.js';

/** The EXIT CODES section shown in --help; the README has the same table. */
export const EXIT_CODES_HELP = [
  'EXIT CODES',
  `  ${ExitCode.Ok}  success: nothing failed (warnings allowed unless --strict)`,
  `  ${ExitCode.Findings}  checks ran and at least one failed`,
  `  ${ExitCode.Usage}  usage or input error (bad flag, malformed config.json, unknown context, bad bundle)`,
  `  ${ExitCode.Unreachable}  could not reach what it needs (no daemon, not a swarm manager, nodes unreachable)`,
].join('\n');

export const DOCKER_GLOBALS_HELP = [
  'DOCKER GLOBAL FLAGS',
  '  Given before "netdoctor", as for any docker command, and honoured the way docker does:',
  '  -H/--host, -c/--context, --config, --tls, --tlsverify, --tlscacert, --tlscert, --tlskey,',
  '  -D/--debug, -l/--log-level; and DOCKER_HOST, DOCKER_CONTEXT, DOCKER_CONFIG,',
  '  DOCKER_TLS_VERIFY, DOCKER_CERT_PATH.',
  '  e.g.  docker --context prod netdoctor nodes',
].join('\n');
