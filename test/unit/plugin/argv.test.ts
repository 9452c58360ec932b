import { describe, expect, it } from 'vitest';
import { splitPluginArgv } from '../../../src/plugin/argv.js';
import { NetdoctorError } from '../../../src/errors.js';

const viaDocker = { DOCKER_CLI_PLUGIN_ORIGINAL_CLI_COMMAND: 'docker' };

describe('splitPluginArgv', () => {
  it.each([
    // [argv docker hands us, expected globals, expected args]
    [['netdoctor', 'nodes'], {}, ['nodes']],
    [['-H', 'unix:///x.sock', '-D', 'netdoctor', 'nodes', '--json'], { host: ['unix:///x.sock'], debug: true }, ['nodes', '--json']],
    [['--host=tcp://h:2376', '--tlsverify', 'netdoctor'], { host: ['tcp://h:2376'], tlsverify: true }, ['check']],
    [['-Hunix:///a.sock', 'netdoctor', 'nodes'], { host: ['unix:///a.sock'] }, ['nodes']],
    [['--context', 'prod', 'netdoctor', 'nodes'], { context: 'prod' }, ['nodes']],
    [['-c', 'prod', '-l', 'debug', 'netdoctor'], { context: 'prod', logLevel: 'debug' }, ['check']],
    // No command: check is the default, with the flags given.
    [['netdoctor', '--format', 'json'], {}, ['check', '--format', 'json']],
    [['--config', '/tmp/cfg', '--tls=false', 'netdoctor', 'x'], { config: '/tmp/cfg', tls: false }, ['x']],
    [['--tlscacert', 'ca', '--tlscert', 'c', '--tlskey', 'k', 'netdoctor'], { tlscacert: 'ca', tlscert: 'c', tlskey: 'k' }, ['check']],
    [['help', 'netdoctor'], {}, ['--help']],
    [['-D', 'help', 'netdoctor', 'nodes'], { debug: true }, ['nodes', '--help']],
    // Direct use: no plugin name, our own flags untouched.
    [['nodes', '--json'], {}, ['nodes', '--json']],
    [['--help'], {}, ['--help']],
    [['-H', 'unix:///x', 'nodes', '-H', 'y'], { host: ['unix:///x'] }, ['nodes', '-H', 'y']],
    // pflag: combined shorthands (bools first; a string flag takes the rest or the next argument)
    [['-Dc', 'prod', 'netdoctor', 'nodes'], { debug: true, context: 'prod' }, ['nodes']],
    [['-DH', 'unix:///x.sock', 'netdoctor'], { debug: true, host: ['unix:///x.sock'] }, ['check']],
    [['-Dcprod', 'netdoctor'], { debug: true, context: 'prod' }, ['check']],
    [['-H=tcp://h:1', '-c=x', 'netdoctor'], { host: ['tcp://h:1'], context: 'x' }, ['check']],
    [['-D=false', '-ldebug', 'netdoctor'], { debug: false, logLevel: 'debug' }, ['check']],
    [['-DD', '--debug=true', 'netdoctor'], { debug: true }, ['check']],
    [['--log-level=warn', '--tlsverify=false', 'netdoctor'], { logLevel: 'warn', tlsverify: false }, ['check']],
    // `--` ends docker's flags
    [['-D', '--', 'netdoctor', 'nodes'], { debug: true }, ['nodes']],
    // not docker's: left to our parser (e.g. check -v when run directly)
    [['-v', 'nodes'], {}, ['check', '-v', 'nodes']],
    [['-Dv', 'nodes'], {}, ['check', '-Dv', 'nodes']],
    [['--hostname', 'x'], {}, ['check', '--hostname', 'x']],
  ])('%j', (argv, globals, args) => {
    const r = splitPluginArgv(argv, viaDocker);
    expect(r.globals).toEqual(globals);
    expect(r.args).toEqual(args);
    expect(r.viaDocker).toBe(true);
  });

  it('collects repeated -H so that the endpoint resolver can refuse them as docker does', () => {
    expect(splitPluginArgv(['-H', 'a', '-H', 'b', 'netdoctor'], {}).globals.host).toEqual(['a', 'b']);
  });

  it('knows when it was not run by docker', () => {
    expect(splitPluginArgv(['nodes'], {}).viaDocker).toBe(false);
  });

  it('rejects a global flag without its value, and a non-boolean boolean', () => {
    expect(() => splitPluginArgv(['-H'], {})).toThrow(NetdoctorError);
    expect(() => splitPluginArgv(['--tls=maybe', 'netdoctor'], {})).toThrow(/invalid argument "maybe" for "--tls"/);
    expect(() => splitPluginArgv(['-Dc'], {})).toThrow(/flag needs an argument: 'c' in -Dc/);
  });
});
