/**
 * Endpoint resolution, checked against the docker CLI's own behaviour: the
 * context-store fixtures are created by the real `docker` binary (28.x, client
 * only) in a throwaway DOCKER_CONFIG, and results are cross-checked with
 * `docker context show` / `docker context inspect`.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ExitCode, NetdoctorError } from '../../../src/errors.js';
import { contextDirName, parseDockerHost, resolveEndpoint, type DockerGlobalOptions, type ResolvedEndpoint } from '../../../src/docker/endpoint.js';

const run = promisify(execFile);

const has = (cmd: string, args: string[]): boolean => {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};
const HAS_DOCKER = has('docker', ['--version']);
const HAS_OPENSSL = has('openssl', ['version']);

let home: string; // fake $HOME
let cfg: string; // a DOCKER_CONFIG dir

beforeEach(() => {
  home = mkdtempSync(path.join(os.tmpdir(), 'netdoctor-ep-'));
  cfg = path.join(home, 'cfg');
  mkdirSync(cfg);
});
afterEach(() => {
  rmSync(home, { recursive: true, force: true });
});

/** resolveEndpoint with only the given environment and the fake home. */
const resolve = (opts: DockerGlobalOptions, env: NodeJS.ProcessEnv = {}): ResolvedEndpoint => resolveEndpoint(opts, env, home);

/** The error resolveEndpoint throws (fails the test if it does not). */
const failure = (opts: DockerGlobalOptions, env: NodeJS.ProcessEnv = {}): NetdoctorError => {
  try {
    resolve(opts, env);
  } catch (err) {
    expect(err).toBeInstanceOf(NetdoctorError);
    const e = err as NetdoctorError;
    expect(e.exitCode).toBe(ExitCode.Usage);
    expect(e.message).not.toContain('\n');
    return e;
  }
  throw new Error('expected resolveEndpoint to throw');
};

/** Run the real docker CLI with a clean environment (no inherited DOCKER_*). */
const docker = async (args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> => {
  const { stdout } = await run('docker', args, {
    env: { PATH: process.env.PATH, HOME: home, ...env },
  });
  return stdout.trim();
};

/** Like docker(), but returns stderr of a failing run. */
const dockerFails = async (args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> => {
  try {
    await docker(args, env);
  } catch (err) {
    return String((err as { stderr?: string }).stderr ?? err);
  }
  throw new Error(`expected docker ${args.join(' ')} to fail`);
};

/** Create a context in DOCKER_CONFIG=cfg with the real CLI. */
const createContext = (name: string, dockerOpts: string) => docker(['context', 'create', name, '--docker', dockerOpts], { DOCKER_CONFIG: cfg });

/** A self-signed certificate and key in dir (cert doubles as CA). */
const makeCerts = (dir: string): { ca: string; cert: string; key: string } => {
  mkdirSync(dir, { recursive: true });
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=netdoctor-test', '-keyout', key, '-out', cert],
    { stdio: 'ignore' },
  );
  const ca = path.join(dir, 'ca.pem');
  writeFileSync(ca, readFileSync(cert));
  return { ca, cert, key };
};

const writeConfig = (dir: string, content: string) => writeFileSync(path.join(dir, 'config.json'), content);

describe('host parsing (opts.ParseHost)', () => {
  const cases: Array<[string, boolean, string]> = [
    ['', false, 'unix:///var/run/docker.sock'],
    ['  ', false, 'unix:///var/run/docker.sock'],
    ['', true, 'tcp://localhost:2376'],
    ['unix://', false, 'unix:///var/run/docker.sock'],
    ['unix:///tmp/x.sock', false, 'unix:///tmp/x.sock'],
    ['tcp://', false, 'tcp://localhost:2375'],
    ['tcp://h', false, 'tcp://h:2375'],
    // 2376 is only the port of the TLS *default* host: tcp://h stays on 2375.
    ['tcp://h', true, 'tcp://h:2375'],
    ['tcp://h:', false, 'tcp://h:2375'],
    ['tcp://h:1234', false, 'tcp://h:1234'],
    ['tcp://:99', false, 'tcp://localhost:99'],
    ['tcp://h:80/path', false, 'tcp://h:80/path'],
    ['tcp://[::1]:2375', false, 'tcp://[::1]:2375'],
    ['h', false, 'tcp://h:2375'],
    ['h:1234', false, 'tcp://h:1234'],
    ['10.0.0.5:2376', true, 'tcp://10.0.0.5:2376'],
    ['ssh://root@10.0.0.5', false, 'ssh://root@10.0.0.5'],
    ['ssh://u@h:2222', false, 'ssh://u@h:2222'],
    ['npipe://', false, 'npipe:////./pipe/docker_engine'],
    // As docker 28: no scheme is tcp, and the path becomes a URL path prefix.
    ['/tmp/x.sock', false, 'tcp://localhost:2375/tmp/x.sock'],
  ];
  it.each(cases)('%j (tls=%s) → %s', (input, tls, expected) => {
    expect(parseDockerHost(input, tls)).toBe(expected);
  });

  const invalid: Array<[string, RegExp]> = [
    ['foo://bar', /unsupported scheme "foo"/],
    ['http://h:1', /unsupported scheme "http"/],
    ['fd://', /unsupported scheme "fd"/],
    ['tcp://h:abc', /invalid port ":abc"/],
    ['tcp://[::1]', /invalid bind address format/],
    ['tcp://h:99999', /invalid port/],
    ['unix://tcp://x', /invalid proto, expected unix/],
    ['ssh://u:secret@h', /plain-text password is not supported/],
    ['ssh://h?x=1', /query parameters are not allowed/],
    ['ssh://', /invalid ssh URL/],
  ];
  it.each(invalid)('rejects %j', (input, re) => {
    expect(() => parseDockerHost(input, false)).toThrow(re);
  });

  it('wraps a bad -H / DOCKER_HOST in a usage error naming its origin', () => {
    expect(failure({ host: ['foo://bar'] }).message).toBe(
      'invalid docker host "foo://bar" (from --host): unsupported scheme "foo"; expected unix://, tcp://, ssh:// or npipe://',
    );
    expect(failure({}, { DOCKER_HOST: 'tcp://h:abc' }).message).toMatch(/^invalid docker host "tcp:\/\/h:abc" \(from DOCKER_HOST\): invalid port/);
  });

  it.skipIf(!HAS_DOCKER)('normalises -H exactly like `docker context inspect default`', async () => {
    const inputs = [
      'tcp://h',
      'tcp://',
      'tcp://:99',
      'tcp://h:80/path',
      'h',
      'h:1234',
      'unix://',
      'unix:///tmp/x.sock',
      'ssh://root@10.0.0.5',
      'ssh://u@h:2222',
      '',
    ];
    for (const input of inputs) {
      const theirs = await docker(['-H', input, 'context', 'inspect', 'default', '--format', '{{.Endpoints.docker.Host}}']);
      expect(resolve({ host: [input] }).host, `-H ${JSON.stringify(input)}`).toBe(theirs);
    }
    for (const input of ['foo://bar', 'tcp://[::1]', 'tcp://h:abc']) {
      await dockerFails(['-H', input, 'context', 'inspect', 'default']);
      expect(() => resolve({ host: [input] }), input).toThrow(NetdoctorError);
    }
  });
});

describe('precedence (cli.go resolveContextName)', () => {
  it('uses the default socket when nothing is set', () => {
    expect(resolve({})).toEqual({
      contextName: 'default',
      source: 'default',
      host: 'unix:///var/run/docker.sock',
      protocol: 'unix',
      skipTLSVerify: false,
      configDir: path.join(home, '.docker'),
    });
  });

  describe.skipIf(!HAS_DOCKER)('with contexts created by the docker CLI', () => {
    beforeEach(async () => {
      await createContext('cfgctx', 'host=unix:///tmp/from-config.sock');
      await createContext('envctx', 'host=unix:///tmp/from-env.sock');
      await createContext('flagctx', 'host=ssh://root@10.0.0.5');
      writeConfig(cfg, JSON.stringify({ auths: {}, currentContext: 'cfgctx' }));
    });

    it('config.json currentContext', () => {
      const ep = resolve({}, { DOCKER_CONFIG: cfg });
      expect(ep).toMatchObject({ contextName: 'cfgctx', source: 'config-context', host: 'unix:///tmp/from-config.sock' });
    });

    it('DOCKER_CONTEXT over currentContext', () => {
      const ep = resolve({}, { DOCKER_CONFIG: cfg, DOCKER_CONTEXT: 'envctx' });
      expect(ep).toMatchObject({ contextName: 'envctx', source: 'env-context', host: 'unix:///tmp/from-env.sock' });
    });

    it('DOCKER_HOST over DOCKER_CONTEXT and currentContext (default context)', () => {
      const ep = resolve({}, { DOCKER_CONFIG: cfg, DOCKER_CONTEXT: 'envctx', DOCKER_HOST: 'tcp://h:1' });
      expect(ep).toMatchObject({ contextName: 'default', source: 'env-host', host: 'tcp://h:1', protocol: 'tcp' });
    });

    it('--context over DOCKER_HOST and DOCKER_CONTEXT', () => {
      const ep = resolve({ context: 'flagctx' }, { DOCKER_CONFIG: cfg, DOCKER_CONTEXT: 'envctx', DOCKER_HOST: 'tcp://h:1' });
      expect(ep).toMatchObject({
        contextName: 'flagctx',
        source: 'flag-context',
        host: 'ssh://root@10.0.0.5',
        protocol: 'ssh',
      });
    });

    it('--host over everything', () => {
      const ep = resolve({ host: ['tcp://flag:2'] }, { DOCKER_CONFIG: cfg, DOCKER_CONTEXT: 'envctx', DOCKER_HOST: 'tcp://h:1' });
      expect(ep).toMatchObject({ contextName: 'default', source: 'flag-host', host: 'tcp://flag:2' });
    });

    it('an explicit "default" context is the flags/env endpoint, DOCKER_HOST included', () => {
      expect(resolve({ context: 'default' }, { DOCKER_CONFIG: cfg, DOCKER_HOST: 'tcp://h:1' })).toMatchObject({
        contextName: 'default',
        source: 'flag-context',
        host: 'tcp://h:1',
      });
      expect(resolve({}, { DOCKER_CONFIG: cfg, DOCKER_CONTEXT: 'default' })).toMatchObject({
        contextName: 'default',
        source: 'env-context',
        host: 'unix:///var/run/docker.sock',
      });
    });

    it('an empty --context or DOCKER_CONTEXT counts as unset', () => {
      expect(resolve({ context: '' }, { DOCKER_CONFIG: cfg, DOCKER_CONTEXT: '' })).toMatchObject({
        contextName: 'cfgctx',
        source: 'config-context',
      });
    });

    it('picks the same context as `docker context show` in every combination', async () => {
      const combos: Array<{ flags: string[]; opts: DockerGlobalOptions; env: NodeJS.ProcessEnv }> = [];
      for (const flag of [null, 'context', 'host'] as const) {
        for (const dockerHost of [undefined, 'tcp://h:1']) {
          for (const dockerContext of [undefined, 'envctx', 'default']) {
            const env: NodeJS.ProcessEnv = { DOCKER_CONFIG: cfg };
            if (dockerHost) env.DOCKER_HOST = dockerHost;
            if (dockerContext) env.DOCKER_CONTEXT = dockerContext;
            if (flag === 'context') combos.push({ flags: ['--context', 'flagctx'], opts: { context: 'flagctx' }, env });
            else if (flag === 'host') combos.push({ flags: ['-H', 'tcp://f:2'], opts: { host: ['tcp://f:2'] }, env });
            else combos.push({ flags: [], opts: {}, env });
          }
        }
      }
      for (const { flags, opts, env } of combos) {
        const theirs = await docker([...flags, 'context', 'show'], env);
        expect(resolve(opts, env).contextName, `${flags.join(' ')} ${JSON.stringify(env)}`).toBe(theirs);
      }
    });
  });

  it('rejects --host with --context, as docker does', async () => {
    const e = failure({ host: ['tcp://h:1'], context: 'foo' });
    expect(e.message).toBe('conflicting options: cannot specify both --host and --context');
    if (HAS_DOCKER) {
      expect(await dockerFails(['-H', 'tcp://h:1', '--context', 'foo', 'info'])).toContain(e.message);
    }
  });

  it('rejects more than one -H', () => {
    expect(failure({ host: ['tcp://a:1', 'tcp://b:2'] }).message).toBe('specify only one -H (got 2: tcp://a:1, tcp://b:2)');
  });

  it('takes an empty -H as the default socket, still from --host', () => {
    expect(resolve({ host: [''] }, { DOCKER_HOST: 'tcp://h:1' })).toMatchObject({
      source: 'flag-host',
      host: 'unix:///var/run/docker.sock',
    });
  });
});

describe('config dir and config.json', () => {
  it('--config > DOCKER_CONFIG > ~/.docker', () => {
    const other = path.join(home, 'other');
    expect(resolve({ config: other }, { DOCKER_CONFIG: cfg }).configDir).toBe(other);
    expect(resolve({}, { DOCKER_CONFIG: cfg }).configDir).toBe(cfg);
    expect(resolve({}).configDir).toBe(path.join(home, '.docker'));
  });

  it('reads currentContext from the --config dir', () => {
    const other = path.join(home, 'other');
    mkdirSync(other);
    writeConfig(other, '{"currentContext":"nope"}');
    expect(failure({ config: other }, { DOCKER_CONFIG: cfg }).message).toMatch(/^context "nope" does not exist/);
  });

  it('accepts an empty config.json and one without currentContext', () => {
    writeConfig(cfg, '');
    expect(resolve({}, { DOCKER_CONFIG: cfg }).source).toBe('default');
    writeConfig(cfg, '{"auths":{}}');
    expect(resolve({}, { DOCKER_CONFIG: cfg }).source).toBe('default');
  });

  it('rejects a malformed config.json', () => {
    writeConfig(cfg, '{bad');
    const file = path.join(cfg, 'config.json');
    expect(failure({}, { DOCKER_CONFIG: cfg }).message).toMatch(
      new RegExp(`^config file ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not valid JSON: `),
    );
    writeConfig(cfg, '[1]');
    expect(failure({}, { DOCKER_CONFIG: cfg }).message).toBe(`config file ${file} is not valid: expected a JSON object`);
    writeConfig(cfg, '{"currentContext": 5}');
    expect(failure({}, { DOCKER_CONFIG: cfg }).message).toBe(`config file ${file} is not valid: "currentContext" must be a string`);
  });

  it('does not need config.json when the endpoint comes from elsewhere', () => {
    writeConfig(cfg, '{bad');
    expect(resolve({}, { DOCKER_CONFIG: cfg, DOCKER_HOST: 'tcp://h:1' }).host).toBe('tcp://h:1');
  });

  it('reports an unreadable config.json', () => {
    mkdirSync(path.join(cfg, 'config.json'));
    expect(failure({}, { DOCKER_CONFIG: cfg }).message).toMatch(/^cannot read config file .*config\.json: /);
  });
});

describe('TLS from flags and environment (default context)', () => {
  let certDir: string;
  let certs: { ca: string; cert: string; key: string };
  beforeEach(() => {
    certDir = path.join(home, 'certs');
    // Real PEM material: docker (and netdoctor) refuse files that are not.
    certs = makeCerts(certDir);
  });

  it('is off by default', () => {
    const ep = resolve({ host: ['tcp://h:2376'] });
    expect(ep.tls).toBeUndefined();
    expect(ep.skipTLSVerify).toBe(false);
  });

  it('DOCKER_TLS_VERIFY (any non-empty value) turns on verified TLS with $DOCKER_CERT_PATH files', () => {
    const ep = resolve({}, { DOCKER_TLS_VERIFY: '0', DOCKER_CERT_PATH: certDir, DOCKER_HOST: 'tcp://h:2376' });
    expect(ep.tls).toEqual({ ...certs, verify: true });
    expect(ep.skipTLSVerify).toBe(false);
  });

  it('defaults the host to tcp://localhost:2376 when TLS is on', () => {
    expect(resolve({ tlsverify: true }, { DOCKER_CERT_PATH: certDir }).host).toBe('tcp://localhost:2376');
    expect(resolve({ tls: true }, { DOCKER_CERT_PATH: certDir }).host).toBe('tcp://localhost:2376');
  });

  it('--tls and DOCKER_TLS mean TLS without verification', () => {
    for (const [opts, env] of [
      [{ tls: true }, {}],
      [{}, { DOCKER_TLS: '1' }],
    ] as const) {
      const ep = resolve({ ...opts, host: ['tcp://h:2376'] }, { ...env, DOCKER_CERT_PATH: certDir });
      expect(ep.tls).toEqual({ ...certs, verify: false });
      expect(ep.skipTLSVerify).toBe(true);
    }
  });

  it('--tlsverify=false still turns TLS on, unverified; --tlsverify overrides --tls', () => {
    expect(resolve({ tlsverify: false, host: ['tcp://h:1'] }, { DOCKER_CERT_PATH: certDir }).tls?.verify).toBe(false);
    expect(resolve({ tls: true, tlsverify: true, host: ['tcp://h:1'] }, { DOCKER_CERT_PATH: certDir }).tls?.verify).toBe(true);
    // --tls=false does not undo DOCKER_TLS_VERIFY
    expect(resolve({ tls: false }, { DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certDir }).tls?.verify).toBe(true);
  });

  it('cert dir: DOCKER_CERT_PATH, else DOCKER_CONFIG, else ~/.docker, never --config', () => {
    for (const f of ['ca.pem', 'cert.pem', 'key.pem']) writeFileSync(path.join(cfg, f), readFileSync(path.join(certDir, f)));
    expect(resolve({ tlsverify: true }, { DOCKER_CONFIG: cfg }).tls?.ca).toBe(path.join(cfg, 'ca.pem'));
    expect(resolve({ tlsverify: true }, { DOCKER_CONFIG: cfg, DOCKER_CERT_PATH: certDir }).tls?.ca).toBe(certs.ca);
    const e = failure({ tlsverify: true, config: cfg });
    expect(e.message).toBe(
      `TLS is on (--tlsverify/DOCKER_TLS_VERIFY) but the CA certificate ${path.join(home, '.docker', 'ca.pem')} (from the default cert directory) cannot be read: no such file or directory`,
    );
  });

  it('drops a missing default cert.pem/key.pem but requires ca.pem', () => {
    rmSync(certs.cert);
    rmSync(certs.key);
    expect(resolve({ tlsverify: true }, { DOCKER_CERT_PATH: certDir }).tls).toEqual({ ca: certs.ca, verify: true });
    rmSync(certs.ca);
    expect(failure({ tlsverify: true }, { DOCKER_CERT_PATH: certDir }).message).toMatch(
      /^TLS is on .* CA certificate .*ca\.pem \(from DOCKER_CERT_PATH\) cannot be read: no such file or directory$/,
    );
  });

  it('uses --tlscacert/--tlscert/--tlskey (quotes trimmed) and requires them to exist', () => {
    const ep = resolve(
      { tlsverify: true, tlscacert: `"${certs.ca}"`, tlscert: certs.cert, tlskey: `'${certs.key}'` },
      { DOCKER_CERT_PATH: '/nonexistent' },
    );
    expect(ep.tls).toEqual({ ...certs, verify: true });
    expect(failure({ tlsverify: true, tlscacert: certs.ca, tlskey: '/nope/key.pem' }).message).toMatch(
      /the client key \/nope\/key\.pem \(from --tlskey\) cannot be read: no such file or directory$/,
    );
  });

  it('ignores the TLS flags unless TLS is on', () => {
    expect(resolve({ tlscacert: '/nope/ca.pem', host: ['tcp://h:1'] }).tls).toBeUndefined();
  });

  it.skipIf(!HAS_DOCKER)('matches `docker context inspect default` (SkipTLSVerify, TLS material)', async () => {
    rmSync(certs.key);
    const variants: Array<{ flags: string[]; opts: DockerGlobalOptions; env: NodeJS.ProcessEnv }> = [
      { flags: ['--tls'], opts: { tls: true }, env: {} },
      { flags: ['--tlsverify'], opts: { tlsverify: true }, env: {} },
      { flags: ['--tlsverify=false'], opts: { tlsverify: false }, env: {} },
      { flags: [], opts: {}, env: { DOCKER_TLS_VERIFY: '1' } },
      { flags: [], opts: {}, env: { DOCKER_TLS: '1' } },
      { flags: ['-H', 'tcp://h'], opts: { host: ['tcp://h'] }, env: { DOCKER_TLS_VERIFY: '1' } },
    ];
    for (const { flags, opts, env } of variants) {
      const fullEnv = { ...env, DOCKER_CERT_PATH: certDir };
      const theirs = JSON.parse(await docker([...flags, 'context', 'inspect', 'default', '--format', '{{json .}}'], fullEnv)) as {
        Endpoints: { docker: { Host: string; SkipTLSVerify: boolean } };
        TLSMaterial: { docker?: string[] };
      };
      const ours = resolve(opts, fullEnv);
      const label = `${flags.join(' ')} ${JSON.stringify(env)}`;
      expect(ours.host, label).toBe(theirs.Endpoints.docker.Host);
      expect(ours.skipTLSVerify, label).toBe(theirs.Endpoints.docker.SkipTLSVerify);
      const files = Object.values(ours.tls ?? {}).filter((v): v is string => typeof v === 'string');
      expect(files.map((f) => path.basename(f)).sort(), label).toEqual([...(theirs.TLSMaterial.docker ?? [])].sort());
    }
  });
});

describe.skipIf(!HAS_DOCKER)('context store (layout written by the docker CLI)', () => {
  const metaFile = (name: string) => path.join(cfg, 'contexts', 'meta', contextDirName(name), 'meta.json');

  it('finds meta.json under contexts/meta/<sha256 of the name>', async () => {
    await createContext('foo', 'host=unix:///tmp/x.sock');
    expect(contextDirName('foo')).toBe('2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae');
    expect(JSON.parse(readFileSync(metaFile('foo'), 'utf8'))).toMatchObject({ Name: 'foo' });
    expect(resolve({ context: 'foo' }, { DOCKER_CONFIG: cfg })).toEqual({
      contextName: 'foo',
      source: 'flag-context',
      host: 'unix:///tmp/x.sock',
      protocol: 'unix',
      skipTLSVerify: false,
      configDir: cfg,
    });
  });

  it('resolves ssh and tcp contexts to the host `docker context inspect` shows', async () => {
    await createContext('sshctx', 'host=ssh://root@10.0.0.5');
    await createContext('tcpctx', 'host=tcp://10.0.0.5:2375');
    for (const name of ['sshctx', 'tcpctx']) {
      const theirs = await docker(['context', 'inspect', name, '--format', '{{.Endpoints.docker.Host}}'], {
        DOCKER_CONFIG: cfg,
      });
      expect(resolve({ context: name }, { DOCKER_CONFIG: cfg }).host).toBe(theirs);
    }
    expect(resolve({ context: 'sshctx' }, { DOCKER_CONFIG: cfg }).protocol).toBe('ssh');
  });

  it('uses the port docker dials for a tcp context without one (80, as Go http does)', async () => {
    await createContext('noport', 'host=tcp://10.0.0.5');
    expect(resolve({ context: 'noport' }, { DOCKER_CONFIG: cfg }).host).toBe('tcp://10.0.0.5:80');
  });

  it('uses the default socket for a context with an empty host', async () => {
    await createContext('empty', 'host=');
    expect(resolve({ context: 'empty' }, { DOCKER_CONFIG: cfg }).host).toBe('unix:///var/run/docker.sock');
  });

  it.skipIf(!HAS_OPENSSL)('takes TLS files from contexts/tls/<sha256>/docker/', async () => {
    const src = makeCerts(path.join(home, 'src'));
    await createContext('tlsctx', `host=tcp://10.0.0.5:2376,ca=${src.ca},cert=${src.cert},key=${src.key}`);
    await createContext('caonly', `host=tcp://10.0.0.5:2376,ca=${src.ca},skip-tls-verify=true`);
    await createContext('skiponly', 'host=tcp://10.0.0.5:2376,skip-tls-verify=true');
    // docker ignores the TLS flags for a named context
    const env = { DOCKER_CONFIG: cfg, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '/nonexistent' };

    const tlsDir = path.join(cfg, 'contexts', 'tls', contextDirName('tlsctx'), 'docker');
    const ep = resolve({ context: 'tlsctx' }, env);
    expect(ep.tls).toEqual({
      ca: path.join(tlsDir, 'ca.pem'),
      cert: path.join(tlsDir, 'cert.pem'),
      key: path.join(tlsDir, 'key.pem'),
      verify: true,
    });
    expect(readFileSync(ep.tls?.ca ?? '', 'utf8')).toBe(readFileSync(src.ca, 'utf8'));
    expect(ep.skipTLSVerify).toBe(false);

    const caOnly = resolve({ context: 'caonly' }, env);
    expect(caOnly.tls).toEqual({
      ca: path.join(cfg, 'contexts', 'tls', contextDirName('caonly'), 'docker', 'ca.pem'),
      verify: false,
    });
    expect(caOnly.skipTLSVerify).toBe(true);

    expect(resolve({ context: 'skiponly' }, env).tls).toEqual({ verify: false });

    for (const name of ['tlsctx', 'caonly', 'skiponly']) {
      const theirs = JSON.parse(await docker(['context', 'inspect', name, '--format', '{{json .}}'], { DOCKER_CONFIG: cfg })) as {
        Endpoints: { docker: { SkipTLSVerify: boolean } };
        TLSMaterial: { docker?: string[] };
      };
      const ours = resolve({ context: name }, env);
      expect(ours.skipTLSVerify).toBe(theirs.Endpoints.docker.SkipTLSVerify);
      const files = [ours.tls?.ca, ours.tls?.cert, ours.tls?.key].filter((f) => f !== undefined);
      expect(files.map((f) => path.basename(f)).sort()).toEqual([...(theirs.TLSMaterial.docker ?? [])].sort());
    }
  });

  it('reports an unknown context with where it came from', async () => {
    expect(failure({ context: 'nope' }, { DOCKER_CONFIG: cfg }).message).toBe(
      `context "nope" does not exist: no ${metaFile('nope')}; see "docker context ls"`,
    );
    expect(failure({}, { DOCKER_CONFIG: cfg, DOCKER_CONTEXT: 'nope' }).message).toMatch(
      /^context "nope" does not exist \(selected by DOCKER_CONTEXT\): /,
    );
    writeConfig(cfg, '{"currentContext":"gone"}');
    expect(failure({}, { DOCKER_CONFIG: cfg }).message).toMatch(/^context "gone" does not exist \(selected by config\.json currentContext\): /);
    // docker fails too
    expect(await dockerFails(['--context', 'nope', 'info'], { DOCKER_CONFIG: cfg })).toMatch(/context "nope"/);
  });

  it('rejects a malformed meta.json', async () => {
    await createContext('broken', 'host=unix:///tmp/x.sock');
    const file = metaFile('broken');
    const check = (content: string, why: string) => {
      writeFileSync(file, content);
      expect(failure({ context: 'broken' }, { DOCKER_CONFIG: cfg }).message).toBe(`context "broken" is malformed: ${file}: ${why}`);
    };
    writeFileSync(file, '{"Name":');
    expect(failure({ context: 'broken' }, { DOCKER_CONFIG: cfg }).message).toMatch(/^context "broken" is malformed: .*meta\.json: not valid JSON: /);
    check('"x"', 'expected a JSON object');
    check('{"Name":"broken","Endpoints":{}}', 'it has no docker endpoint');
    check('{"Name":"broken","Endpoints":{"docker":{"Host":5}}}', '"Endpoints.docker.Host" must be a string');
    check(
      '{"Name":"broken","Endpoints":{"docker":{"Host":"unix:///x","SkipTLSVerify":"yes"}}}',
      '"Endpoints.docker.SkipTLSVerify" must be a boolean',
    );
    // Keys are matched case-insensitively, as Go's encoding/json does.
    writeFileSync(file, '{"name":"broken","endpoints":{"docker":{"host":"unix:///tmp/y.sock","skipTLSVerify":false}}}');
    expect(resolve({ context: 'broken' }, { DOCKER_CONFIG: cfg }).host).toBe('unix:///tmp/y.sock');
  });

  it('rejects a context host with an unsupported scheme', async () => {
    await createContext('weird', 'host=foo://x'); // the CLI accepts it (and would dial it over TCP)
    expect(failure({ context: 'weird' }, { DOCKER_CONFIG: cfg }).message).toBe(
      'context "weird" has an invalid docker host "foo://x": unsupported scheme "foo"; expected unix://, tcp://, ssh:// or npipe://',
    );
  });
});
