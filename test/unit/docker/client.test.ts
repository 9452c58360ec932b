/**
 * dockerode client construction, and requireSwarmManager's connection errors
 * against real unix socket paths (no daemon; swarm/worker cases are e2e).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDockerClient, describeConnectError, requireSwarmManager } from '../../../src/docker/client.js';
import { resolveEndpoint, type ResolvedEndpoint } from '../../../src/docker/endpoint.js';
import { ExitCode, NetdoctorError } from '../../../src/errors.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'netdoctor-client-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const endpoint = (host: string, env: NodeJS.ProcessEnv = {}): ResolvedEndpoint => resolveEndpoint({ host: [host] }, env, dir);

/** docker-modem's settings (untyped in @types/dockerode). */
const modemOf = (docker: ReturnType<typeof createDockerClient>) =>
  docker.modem as unknown as Record<string, unknown> & { sshOptions: Record<string, unknown> };

/** The NetdoctorError a promise rejects with. */
const rejection = async (p: Promise<unknown>): Promise<NetdoctorError> => {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(NetdoctorError);
    const e = err as NetdoctorError;
    expect(e.message).not.toContain('\n');
    return e;
  }
  throw new Error('expected a rejection');
};

describe('createDockerClient', () => {
  it('uses the socket path for unix endpoints', () => {
    const modem = modemOf(createDockerClient(endpoint('unix:///tmp/x.sock')));
    expect(modem.socketPath).toBe('/tmp/x.sock');
    expect(modem.host).toBeUndefined();
  });

  it('is not redirected by a DOCKER_HOST in the environment (docker-modem reads it)', () => {
    const saved = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = 'tcp://elsewhere:2375';
    try {
      const modem = modemOf(createDockerClient(endpoint('unix:///tmp/x.sock')));
      expect(modem.socketPath).toBe('/tmp/x.sock');
      expect(modem.host).toBeUndefined();
      expect(process.env.DOCKER_HOST).toBe('tcp://elsewhere:2375');
    } finally {
      if (saved === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = saved;
    }
  });

  it('uses plain http for tcp without TLS', () => {
    const modem = modemOf(createDockerClient(endpoint('tcp://10.0.0.5:2375')));
    expect(modem).toMatchObject({ host: '10.0.0.5', port: 2375, protocol: 'http' });
    expect(modem.socketPath).toBeUndefined();
  });

  it('uses https with the TLS file contents for tcp with TLS', () => {
    const certs = path.join(dir, 'certs');
    mkdirSync(certs);
    execFileSync(
      'openssl',
      [
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
        '/CN=netdoctor-test',
        '-keyout',
        path.join(certs, 'key.pem'),
        '-out',
        path.join(certs, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    writeFileSync(path.join(certs, 'ca.pem'), readFileSync(path.join(certs, 'cert.pem')));
    const ep = resolveEndpoint({ host: ['tcp://h:2376/api/'], tls: true }, { DOCKER_CERT_PATH: certs }, dir);
    const modem = modemOf(createDockerClient(ep));
    // the URL path is a prefix of every request, as with the docker client
    expect(modem).toMatchObject({ host: 'h', port: 2376, protocol: 'https', version: 'api' });
    expect(String(modem.ca)).toBe(readFileSync(path.join(certs, 'ca.pem'), 'utf8'));
    expect(String(modem.cert)).toBe(readFileSync(path.join(certs, 'cert.pem'), 'utf8'));
    expect(String(modem.key)).toBe(readFileSync(path.join(certs, 'key.pem'), 'utf8'));
    // --tls without --tlsverify: no certificate verification
    expect((modem.agent as { options: Record<string, unknown> }).options.rejectUnauthorized).toBe(false);
  });

  it('reports unreadable TLS files as usage errors', () => {
    const ep: ResolvedEndpoint = {
      ...endpoint('tcp://h:2376'),
      tls: { ca: path.join(dir, 'missing.pem'), verify: true },
    };
    expect(() => createDockerClient(ep)).toThrow(/^cannot read TLS CA certificate .*missing\.pem: no such file or directory$/);
  });

  it("uses docker-modem's ssh protocol with the ssh-agent", () => {
    const ep = endpoint('ssh://root@10.0.0.5:2222');
    const modem = modemOf(createDockerClient(ep, { env: { SSH_AUTH_SOCK: '/tmp/agent.sock' }, homedir: dir }));
    expect(modem).toMatchObject({ protocol: 'ssh', host: '10.0.0.5', port: 2222, username: 'root' });
    expect(modem.sshOptions.agent).toBe('/tmp/agent.sock');
    expect(modem.sshOptions.privateKey).toBeUndefined();
  });

  it('defaults the ssh port to 22 and the user to the local one', () => {
    const modem = modemOf(createDockerClient(endpoint('ssh://10.0.0.5'), { env: {}, homedir: dir }));
    expect(modem).toMatchObject({ port: 22, username: os.userInfo().username });
    expect(modem.sshOptions.agent).toBeUndefined();
  });

  it('rejects an ssh URL with a remote socket path', () => {
    expect(() => createDockerClient(endpoint('ssh://root@h/var/run/docker.sock'))).toThrow(/remote socket path in an ssh URL is not supported/);
  });
});

describe('requireSwarmManager connection errors', () => {
  it('maps a socket that does not exist (ENOENT) to exit 3', async () => {
    const sock = path.join(dir, 'nope.sock');
    const ep = endpoint(`unix://${sock}`);
    const e = await rejection(requireSwarmManager(createDockerClient(ep), ep));
    expect(e.exitCode).toBe(ExitCode.Unreachable);
    expect(e.message).toBe(`cannot connect to the Docker daemon at unix://${sock}: socket ${sock} does not exist. Is the docker daemon running?`);
  });

  it('maps a socket nobody listens on (ECONNREFUSED) to exit 3', async () => {
    const sock = path.join(dir, 'dead.sock');
    // A process that binds the socket and is killed leaves the file behind.
    const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(sock)}, () => console.log('up'))`], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));

    const ep = endpoint(`unix://${sock}`);
    const e = await rejection(requireSwarmManager(createDockerClient(ep), ep));
    expect(e.exitCode).toBe(ExitCode.Unreachable);
    expect(e.message).toBe(`cannot connect to the Docker daemon at unix://${sock}: connection refused. Is the docker daemon running?`);
  });

  it('gives up after the timeout when nothing answers', async () => {
    const sock = path.join(dir, 'silent.sock');
    const sockets: net.Socket[] = [];
    const server = net.createServer((s) => sockets.push(s)); // accepts, never answers
    await new Promise<void>((resolve) => server.listen(sock, resolve));
    try {
      const ep = endpoint(`unix://${sock}`);
      const e = await rejection(requireSwarmManager(createDockerClient(ep), ep, { timeoutMs: 300 }));
      expect(e.exitCode).toBe(ExitCode.Unreachable);
      expect(e.message).toBe(`cannot connect to the Docker daemon at unix://${sock}: no answer within 300ms. Is the docker daemon running?`);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('describeConnectError', () => {
  const errno = (code: string, message = `connect ${code}`) => Object.assign(new Error(message), { code });
  const cases: Array<[string, string, unknown, string]> = [
    [
      'EACCES on a socket',
      'unix:///var/run/docker.sock',
      errno('EACCES'),
      'cannot connect to the Docker daemon at unix:///var/run/docker.sock: permission denied on /var/run/docker.sock (is your user in the "docker" group?)',
    ],
    [
      'DNS failure',
      'tcp://nohost:2375',
      errno('ENOTFOUND', 'getaddrinfo ENOTFOUND nohost'),
      'cannot connect to the Docker daemon at tcp://nohost:2375: cannot resolve host name (getaddrinfo ENOTFOUND nohost)',
    ],
    [
      'unreachable host',
      'tcp://10.0.0.5:2375',
      errno('EHOSTUNREACH'),
      'cannot connect to the Docker daemon at tcp://10.0.0.5:2375: host unreachable',
    ],
    [
      'reset on plain tcp',
      'tcp://10.0.0.5:2376',
      errno('ECONNRESET'),
      'cannot connect to the Docker daemon at tcp://10.0.0.5:2376: connection closed by the other end (does it expect TLS? try --tlsverify)',
    ],
    [
      'TLS',
      'tcp://10.0.0.5:2376',
      errno('DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate'),
      'cannot connect to the Docker daemon at tcp://10.0.0.5:2376: TLS error: self-signed certificate',
    ],
    [
      'ssh handshake timeout',
      'ssh://root@10.0.0.5',
      Object.assign(new Error('Timed out while waiting for handshake'), { level: 'client-timeout' }),
      'cannot connect to the Docker daemon at ssh://root@10.0.0.5: ssh handshake with root@10.0.0.5 timed out',
    ],
    [
      'daemon error',
      'unix:///var/run/docker.sock',
      Object.assign(new Error('(HTTP code 500) server error - boom '), { statusCode: 500, json: { message: 'boom' } }),
      'unix:///var/run/docker.sock answered GET /info with HTTP 500: boom',
    ],
    [
      'http to a TLS port',
      'tcp://10.0.0.5:2376',
      Object.assign(new Error('(HTTP code 400) unexpected - Client sent an HTTP request to an HTTPS server. '), { statusCode: 400 }),
      'tcp://10.0.0.5:2376 answered GET /info with HTTP 400: Client sent an HTTP request to an HTTPS server. (it expects TLS: use --tlsverify or DOCKER_TLS_VERIFY=1)',
    ],
    [
      'not a daemon',
      'tcp://10.0.0.5:80',
      Object.assign(new Error('(HTTP code 404) unexpected - '), { statusCode: 404 }),
      'tcp://10.0.0.5:80 answered GET /info with HTTP 404 (is it a Docker daemon?)',
    ],
    [
      'anything else, multi-line',
      'unix:///x.sock',
      new Error('weird\n    at stack (frame.js:1:1)'),
      'cannot connect to the Docker daemon at unix:///x.sock: weird at stack (frame.js:1:1). Is the docker daemon running?',
    ],
  ];
  it.each(cases)('%s', (_label, host, err, expected) => {
    const e = describeConnectError(err, endpoint(host), 10_000);
    expect(e.exitCode).toBe(ExitCode.Unreachable);
    expect(e.message).toBe(expected);
    expect(e.cause).toBe(err);
  });
});
