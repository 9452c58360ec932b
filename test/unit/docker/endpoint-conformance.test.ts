/**
 * Endpoint conformance against the real docker CLI (28.x): a fake daemon
 * listens on a unix socket and on 127.0.0.1 (plain HTTP, and HTTPS that asks
 * for a client certificate) and records every connection and request. For
 * each scenario:
 *   - `docker <globals> version` is run and what it contacted is recorded;
 *   - `docker <globals> netdoctor nodes` runs a shim plugin that records the
 *     argv docker hands a plugin; netdoctor splits that argv, resolves the
 *     endpoint and asks the fake daemon for its version;
 *   - both are compared: same listener, same URL path prefix, same client
 *     certificate use and outcome (ok, failed after contact, or refused
 *     before contacting anything; netdoctor refuses with exit 2).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDockerClient } from '../../../src/docker/client.js';
import { resolveEndpoint } from '../../../src/docker/endpoint.js';
import { NetdoctorError } from '../../../src/errors.js';
import { splitPluginArgv } from '../../../src/plugin/argv.js';

const DOCKER = ['/usr/local/bin/docker', 'docker'].find((d) => spawnSync(d, ['--version']).status === 0);
const OPENSSL = spawnSync('openssl', ['version']).status === 0;

interface Event {
  listener: string;
  kind: 'conn' | 'req';
  url?: string;
  clientCert?: boolean;
}

let T: string;
let events: Event[] = [];
const servers: net.Server[] = [];
const ports: Record<string, number> = {};
let has2375 = false;

function openssl(args: string[]) {
  execFileSync('openssl', args, { stdio: 'ignore', cwd: T });
}

function respond(listener: string, tls: boolean) {
  return (req: http.IncomingMessage, res: http.ServerResponse) => {
    const sock = req.socket as TLSSocket;
    const peer = tls ? sock.getPeerCertificate() : undefined;
    events.push({
      listener,
      kind: 'req',
      url: req.url ?? '',
      clientCert: tls ? peer !== undefined && Object.keys(peer).length > 0 && sock.authorized : false,
    });
    res.setHeader('Content-Type', 'application/json');
    res.setHeader('Api-Version', '1.41');
    if ((req.url ?? '').endsWith('/_ping')) {
      res.end('OK');
      return;
    }
    res.end(JSON.stringify({ Version: '20.10.24', ApiVersion: '1.41', MinAPIVersion: '1.12', Os: 'linux', Arch: 'amd64', Components: [] }));
  };
}

async function listen(server: net.Server, where: string | number, label: string): Promise<boolean> {
  server.on('connection', () => events.push({ listener: label, kind: 'conn' }));
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    const cb = () => {
      servers.push(server);
      if (typeof where === 'number') ports[label] = (server.address() as net.AddressInfo).port;
      resolve(true);
    };
    if (typeof where === 'string') server.listen(where, cb);
    else server.listen(where, '127.0.0.1', cb);
  });
}

beforeAll(async () => {
  if (!DOCKER || !OPENSSL) return;
  T = mkdtempSync(path.join(tmpdir(), 'nd-epconf-'));
  mkdirSync(path.join(T, 'home'));
  // A CA, a server certificate for 127.0.0.1/localhost, a client certificate; a wrong CA and bad files.
  openssl([
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=test-ca',
    '-keyout',
    'ca-key.pem',
    '-out',
    'ca.pem',
  ]);
  openssl([
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=wrong-ca',
    '-keyout',
    'wrong-key.pem',
    '-out',
    'wrong-ca.pem',
  ]);
  for (const [name, ext] of [
    ['server', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
    ['client', 'extendedKeyUsage=clientAuth'],
  ] as const) {
    openssl([
      'req',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-subj',
      `/CN=${name}`,
      '-keyout',
      `${name}-key.pem`,
      '-out',
      `${name}.csr`,
    ]);
    writeFileSync(path.join(T, `${name}.ext`), `${ext}\n`);
    openssl([
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca-key.pem',
      '-CAcreateserial',
      '-days',
      '1',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.pem`,
    ]);
  }
  writeFileSync(path.join(T, 'not-pem.pem'), 'this is not a certificate\n');
  // DOCKER_CERT_PATH-style directories: good, non-PEM CA, non-PEM key, key of another certificate.
  const certDir = (name: string, ca: string, cert: string, key: string) => {
    const d = path.join(T, name);
    mkdirSync(d);
    cpSync(path.join(T, ca), path.join(d, 'ca.pem'));
    cpSync(path.join(T, cert), path.join(d, 'cert.pem'));
    cpSync(path.join(T, key), path.join(d, 'key.pem'));
  };
  certDir('certs', 'ca.pem', 'client.pem', 'client-key.pem');
  certDir('certs-badca', 'not-pem.pem', 'client.pem', 'client-key.pem');
  certDir('certs-badkey', 'ca.pem', 'client.pem', 'not-pem.pem');
  certDir('certs-mismatch', 'ca.pem', 'client.pem', 'server-key.pem');
  certDir('certs-wrongca', 'wrong-ca.pem', 'client.pem', 'client-key.pem');

  await listen(http.createServer(respond('unix', false)), path.join(T, 'docker.sock'), 'unix');
  await listen(http.createServer(respond('plain', false)), 0, 'plain');
  const tlsOpts = {
    key: readFileSync(path.join(T, 'server-key.pem')),
    cert: readFileSync(path.join(T, 'server.pem')),
    ca: readFileSync(path.join(T, 'ca.pem')),
    requestCert: true,
    rejectUnauthorized: false,
  };
  const tlsServer = https.createServer(tlsOpts, respond('tls', true));
  await listen(tlsServer, 0, 'tls');
  has2375 = await listen(http.createServer(respond('plain2375', false)), 2375, 'plain2375');
});

afterAll(() => {
  for (const s of servers) s.close();
  if (T) rmSync(T, { recursive: true, force: true });
});

interface Scenario {
  name: string;
  flags: string[];
  env?: Record<string, string>;
  /** Prepare the config dir (contexts, config.json) with the real docker CLI. */
  setup?: (cfg: string, env: NodeJS.ProcessEnv) => void;
  needs2375?: boolean;
}

const sub = (s: string) =>
  s
    .replaceAll('{SOCK}', path.join(T, 'docker.sock'))
    .replaceAll('{PLAIN}', String(ports.plain))
    .replaceAll('{TLS}', String(ports.tls))
    .replaceAll('{T}', T);

const ctx =
  (name: string, host: string, extra: string[] = []) =>
  (cfg: string, env: NodeJS.ProcessEnv) => {
    execFileSync(DOCKER!, ['context', 'create', name, '--docker', [`host=${sub(host)}`, ...extra.map(sub)].join(',')], {
      env: { ...env, DOCKER_CONFIG: cfg },
      stdio: 'ignore',
    });
  };

const scenarios: Scenario[] = [
  { name: '-H unix socket', flags: ['-H', 'unix://{SOCK}'] },
  { name: '--host=unix socket', flags: ['--host=unix://{SOCK}'] },
  { name: '-Hunix (attached value)', flags: ['-Hunix://{SOCK}'] },
  { name: '-DH combined shorthands', flags: ['-DH', 'unix://{SOCK}'] },
  { name: '-H tcp', flags: ['-H', 'tcp://127.0.0.1:{PLAIN}'] },
  { name: '-H without scheme', flags: ['-H', '127.0.0.1:{PLAIN}'] },
  { name: '-H localhost', flags: ['-H', 'tcp://localhost:{PLAIN}'] },
  { name: 'DOCKER_HOST tcp', flags: [], env: { DOCKER_HOST: 'tcp://127.0.0.1:{PLAIN}' } },
  { name: 'DOCKER_HOST without scheme', flags: [], env: { DOCKER_HOST: '127.0.0.1:{PLAIN}' } },
  { name: 'DOCKER_HOST unix', flags: [], env: { DOCKER_HOST: 'unix://{SOCK}' } },
  { name: 'DOCKER_HOST path without scheme is tcp://localhost:2375/path', flags: [], env: { DOCKER_HOST: '{SOCK}' }, needs2375: true },
  { name: 'tcp without a port is 2375', flags: ['-H', 'tcp://127.0.0.1'], needs2375: true },
  { name: 'URL path prefix', flags: ['-H', 'tcp://127.0.0.1:{PLAIN}/prefix'] },
  { name: 'URL path prefix, two segments and a slash', flags: [], env: { DOCKER_HOST: 'tcp://127.0.0.1:{PLAIN}/a/b/' } },
  { name: '-H beats DOCKER_HOST', flags: ['-H', 'unix://{SOCK}'], env: { DOCKER_HOST: 'tcp://127.0.0.1:{PLAIN}' } },
  { name: '-D -l debug before -H', flags: ['-D', '-l', 'debug', '-H', 'unix://{SOCK}'] },
  { name: '--log-level=info --debug=false', flags: ['--log-level=info', '--debug=false', '-H', 'unix://{SOCK}'] },
  { name: '-c context (unix)', flags: ['-c', 'ux'], setup: ctx('ux', 'unix://{SOCK}') },
  { name: '-Dc combined with a context', flags: ['-Dc', 'ux'], setup: ctx('ux', 'unix://{SOCK}') },
  { name: '--context=ctx (tcp)', flags: ['--context=px'], setup: ctx('px', 'tcp://127.0.0.1:{PLAIN}') },
  { name: 'context with a path prefix', flags: ['--context', 'pp'], setup: ctx('pp', 'tcp://127.0.0.1:{PLAIN}/pre') },
  { name: 'DOCKER_CONTEXT', flags: [], env: { DOCKER_CONTEXT: 'px' }, setup: ctx('px', 'tcp://127.0.0.1:{PLAIN}') },
  {
    name: 'DOCKER_HOST beats DOCKER_CONTEXT',
    flags: [],
    env: { DOCKER_CONTEXT: 'px', DOCKER_HOST: 'unix://{SOCK}' },
    setup: ctx('px', 'tcp://127.0.0.1:{PLAIN}'),
  },
  {
    name: '--context beats DOCKER_HOST',
    flags: ['--context', 'px'],
    env: { DOCKER_HOST: 'unix://{SOCK}' },
    setup: ctx('px', 'tcp://127.0.0.1:{PLAIN}'),
  },
  {
    name: 'config.json currentContext',
    flags: [],
    setup: (cfg, env) => {
      ctx('px', 'tcp://127.0.0.1:{PLAIN}')(cfg, env);
      execFileSync(DOCKER!, ['context', 'use', 'px'], { env: { ...env, DOCKER_CONFIG: cfg }, stdio: 'ignore' });
    },
  },
  {
    name: '--tlsverify with CA, cert, key flags',
    flags: [
      '--tlsverify',
      '--tlscacert',
      '{T}/ca.pem',
      '--tlscert',
      '{T}/client.pem',
      '--tlskey',
      '{T}/client-key.pem',
      '-H',
      'tcp://127.0.0.1:{TLS}',
    ],
  },
  {
    name: '--tlsverify=true with --flag=value TLS paths',
    flags: ['--tlsverify=true', '--tlscacert={T}/ca.pem', '--tlscert={T}/client.pem', '--tlskey={T}/client-key.pem', '-H', 'tcp://127.0.0.1:{TLS}'],
  },
  {
    name: 'DOCKER_TLS_VERIFY + DOCKER_CERT_PATH',
    flags: [],
    env: { DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '{T}/certs', DOCKER_HOST: 'tcp://127.0.0.1:{TLS}' },
  },
  { name: 'verified TLS, CA only (no client cert)', flags: ['--tlsverify', '--tlscacert', '{T}/ca.pem', '-H', 'tcp://127.0.0.1:{TLS}'] },
  {
    name: 'verified TLS with the wrong CA fails after contact',
    flags: [],
    env: { DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '{T}/certs-wrongca', DOCKER_HOST: 'tcp://127.0.0.1:{TLS}' },
  },
  { name: '--tls without verification', flags: ['--tls', '--tlscacert', '{T}/wrong-ca.pem', '-H', 'tcp://127.0.0.1:{TLS}'] },
  { name: '--tlsverify=false: TLS on, unverified', flags: ['--tlsverify=false', '--tlscacert', '{T}/wrong-ca.pem', '-H', 'tcp://127.0.0.1:{TLS}'] },
  {
    name: 'DOCKER_TLS=1: TLS, unverified',
    flags: [],
    env: { DOCKER_TLS: '1', DOCKER_CERT_PATH: '{T}/certs-wrongca', DOCKER_HOST: 'tcp://127.0.0.1:{TLS}' },
  },
  {
    name: 'TLS with a path prefix',
    flags: [],
    env: { DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '{T}/certs', DOCKER_HOST: 'tcp://127.0.0.1:{TLS}/tlspre' },
  },
  {
    name: 'non-PEM CA is refused before connecting',
    flags: [],
    env: { DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '{T}/certs-badca', DOCKER_HOST: 'tcp://127.0.0.1:{TLS}' },
  },
  {
    name: 'non-PEM key is refused before connecting',
    flags: [],
    env: { DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '{T}/certs-badkey', DOCKER_HOST: 'tcp://127.0.0.1:{TLS}' },
  },
  {
    name: 'key not matching the cert is refused before connecting',
    flags: [],
    env: { DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '{T}/certs-mismatch', DOCKER_HOST: 'tcp://127.0.0.1:{TLS}' },
  },
  { name: '--tlscacert non-PEM is refused', flags: ['--tlsverify', '--tlscacert', '{T}/not-pem.pem', '-H', 'tcp://127.0.0.1:{TLS}'] },
  { name: 'missing CA file is refused', flags: ['--tlsverify', '--tlscacert', '{T}/nope.pem', '-H', 'tcp://127.0.0.1:{TLS}'] },
  { name: 'plain HTTP to the TLS port fails after contact', flags: ['-H', 'tcp://127.0.0.1:{TLS}'] },
  {
    name: 'context with TLS material',
    flags: ['--context', 'tc'],
    setup: ctx('tc', 'tcp://127.0.0.1:{TLS}', ['ca={T}/ca.pem', 'cert={T}/client.pem', 'key={T}/client-key.pem']),
  },
  { name: 'context with SkipTLSVerify', flags: ['--context', 'ts'], setup: ctx('ts', 'tcp://127.0.0.1:{TLS}', ['skip-tls-verify=true']) },
  {
    name: 'context with a wrong CA fails after contact',
    flags: ['--context', 'tw'],
    setup: ctx('tw', 'tcp://127.0.0.1:{TLS}', ['ca={T}/wrong-ca.pem']),
  },
  { name: '-H and --context together are refused', flags: ['-H', 'unix://{SOCK}', '--context', 'ux'], setup: ctx('ux', 'unix://{SOCK}') },
  { name: 'unknown context is refused', flags: ['--context', 'nosuch'] },
  { name: 'unsupported scheme is refused', flags: ['-H', 'foo://bar'] },
  { name: 'bad port is refused', flags: ['-H', 'tcp://127.0.0.1:abc'] },
  { name: 'one-letter context names do not exist (docker requires two characters)', flags: ['--context', 'u'] },
  {
    name: 'DOCKER_CONTEXT=default with DOCKER_HOST unset is the default socket path',
    flags: ['-H', 'unix://{SOCK}'],
    env: { DOCKER_CONTEXT: 'default' },
  },
  {
    name: '--config moves the context store',
    flags: ['--config', '{T}/altcfg', '--context', 'alt'],
    setup: (_cfg, env) => ctx('alt', 'unix://{SOCK}')(path.join(T, 'altcfg'), env),
  },
];

type Outcome = { outcome: 'ok' | 'failed' | 'refused'; contacted: string[]; prefix: string | null; clientCert: boolean };

const summarise = (evs: Event[], ok: boolean): Outcome => {
  const contacted = [...new Set(evs.map((e) => e.listener))].sort();
  const req = evs.find((e) => e.kind === 'req');
  const prefix = req ? (req.url ?? '').replace(/\/(_ping|v[\d.]+\/version|version)$/, '') : null;
  return {
    outcome: ok ? 'ok' : contacted.length === 0 ? 'refused' : 'failed',
    contacted,
    prefix,
    clientCert: evs.some((e) => e.clientCert === true),
  };
};

const settle = () => new Promise((r) => setTimeout(r, 50));

function runDocker(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(DOCKER!, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += String(d)));
    p.stderr.on('data', (d: Buffer) => (stderr += String(d)));
    const timer = setTimeout(() => p.kill('SIGKILL'), 20_000);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const SHIM = `#!/bin/sh
if [ "$1" = docker-cli-plugin-metadata ]; then
  echo '{"SchemaVersion":"0.1.0","Vendor":"netdoctor tests","Version":"0.0.0","ShortDescription":"argv recorder"}'
  exit 0
fi
for a in "$@"; do printf '%s\\n' "$a"; done > "$ND_ARGV_OUT"
`;

const tally = { total: 0, agree: 0 };

describe.skipIf(!DOCKER || !OPENSSL)(
  `endpoint conformance with the docker CLI (${DOCKER ? execFileSync(DOCKER, ['--version'], { encoding: 'utf8' }).trim() : 'no docker'})`,
  () => {
    it('has at least 44 scenarios', () => {
      expect(scenarios.length).toBeGreaterThanOrEqual(44);
    });

    for (const [i, s] of scenarios.entries()) {
      it(s.name, async (tc) => {
        if (s.needs2375 && !has2375) tc.skip('127.0.0.1:2375 is in use');
        const cfg = path.join(T, `cfg${i}`);
        mkdirSync(path.join(cfg, 'cli-plugins'), { recursive: true });
        const shim = path.join(cfg, 'cli-plugins', 'docker-netdoctor');
        writeFileSync(shim, SHIM);
        chmodSync(shim, 0o755);
        if (s.flags.includes('--config')) {
          mkdirSync(path.join(T, 'altcfg', 'cli-plugins'), { recursive: true });
          cpSync(shim, path.join(T, 'altcfg', 'cli-plugins', 'docker-netdoctor'));
        }
        const argvFile = path.join(T, `argv${i}`);
        const env: NodeJS.ProcessEnv = {
          PATH: process.env.PATH,
          HOME: path.join(T, 'home'),
          DOCKER_CONFIG: cfg,
          ND_ARGV_OUT: argvFile,
          ...Object.fromEntries(Object.entries(s.env ?? {}).map(([k, v]) => [k, sub(v)])),
        };
        s.setup?.(cfg, env);
        const flags = s.flags.map(sub);

        events = [];
        const d = await runDocker([...flags, 'version', '--format', '{{.Server.Version}}'], env);
        await settle();
        const theirs = summarise(events, d.code === 0 && d.stdout.trim() === '20.10.24');

        // What docker hands the plugin, then netdoctor's own resolution and connection.
        const shimRun = await runDocker([...flags, 'netdoctor', 'nodes'], env);
        let ours: Outcome;
        events = [];
        let argv: string[] | null = null;
        try {
          argv = readFileSync(argvFile, 'utf8').split('\n').slice(0, -1);
        } catch {
          argv = null; // docker refused before running the plugin
        }
        if (argv === null) {
          ours = { outcome: 'refused', contacted: [], prefix: null, clientCert: false };
          expect(shimRun.code).not.toBe(0);
        } else {
          let ok = false;
          let usage = false;
          try {
            const split = splitPluginArgv(argv, { ...env, DOCKER_CLI_PLUGIN_ORIGINAL_CLI_COMMAND: 'docker' });
            expect(split.args).toEqual(['nodes']);
            const ep = resolveEndpoint(split.globals, env, env.HOME);
            const client = createDockerClient(ep, { timeoutMs: 5000, env, homedir: env.HOME! });
            const v = (await client.version()) as { Version?: string };
            ok = v.Version === '20.10.24';
          } catch (err) {
            usage = err instanceof NetdoctorError && err.exitCode === 2;
            if (usage) expect((err as Error).message).not.toContain('\n');
          }
          await settle();
          ours = summarise(events, ok);
          // A refusal before contact must be a usage error (exit 2), as docker refuses it.
          if (ours.outcome === 'refused') expect(usage).toBe(true);
        }
        tally.total++;
        if (JSON.stringify(ours) === JSON.stringify(theirs)) tally.agree++;
        expect(ours, `docker said: ${d.stderr.trim().split('\n').pop() ?? ''}`).toEqual(theirs);
      });
    }

    afterAll(() => {
      console.log(`endpoint conformance: ${tally.agree}/${tally.total} scenarios contact what docker contacts`);
    });
  },
);
