/**
 * Reading a stack as `docker stack deploy` does: the real docker CLI's
 * `docker stack config` (it needs no daemon) on fixture files, its output
 * normalised, its errors one line naming the file (exit 2), and file:line
 * found in the user's files (the last file that sets a key wins).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ExitCode, NetdoctorError } from '../../../src/errors.js';
import { readStack } from '../../../src/run/gate.js';
import { defaultStackName, normaliseStack } from '../../../src/stack/normalise.js';
import { Locator, stackConfig } from '../../../src/stack/read.js';
import { fixtureStack, STACK_DIR, stackFile } from '../../support/stack-fixtures.js';

describe('normaliseStack on docker stack config output', () => {
  it('reads services with their deploy settings and the networks named as in the swarm', () => {
    const s = fixtureStack('go', ['go'], 'shop');
    expect(s.services).toEqual([
      {
        key: 'app',
        name: 'shop_app',
        mode: 'replicated',
        replicas: 2,
        endpointMode: 'dnsrr',
        ports: [],
        networks: ['back'],
        constraints: [],
        maxReplicasPerNode: 1,
      },
    ]);
    expect(s.networks).toEqual([
      {
        key: 'back',
        name: 'shop_back',
        external: false,
        driver: 'overlay',
        driverOpts: {},
        attachable: true,
        subnets: ['10.231.0.0/24'],
        encrypted: false,
        mtu: null,
      },
    ]);
  });

  it('reads long-form ports, ingress and host', () => {
    expect(fixtureStack('port-web').services[0]!.ports).toEqual([{ target: 80, published: 8080, protocol: 'tcp', mode: 'ingress' }]);
    expect(fixtureStack('host-port').services[0]!.ports).toEqual([{ target: 7946, published: 7946, protocol: 'tcp', mode: 'host' }]);
  });

  it('gives a service without networks the stack default network, which the stack creates', () => {
    const s = fixtureStack('port-web');
    expect(s.services[0]!.networks).toEqual(['default']);
    expect(s.networks).toMatchObject([{ key: 'default', name: 'app_default', external: false }]);
  });

  it('names external networks by their name, and sees encryption and constraints', () => {
    expect(fixtureStack('external').networks).toMatchObject([{ key: 'shared', name: 'nd-missing-net', external: true }]);
    expect(fixtureStack('encrypted').networks).toMatchObject([{ name: 'app_secret', encrypted: true, driverOpts: { encrypted: '' } }]);
    expect(fixtureStack('constraint').services[0]!.constraints).toEqual(['node.labels.zone == nowhere']);
  });

  it('takes the merged result of several files', () => {
    expect(fixtureStack('go+override-subnet', ['go', 'override-subnet']).networks[0]!.subnets).toEqual(['10.213.0.0/24']);
  });

  it('refuses what is not a stack in one line (exit 2)', () => {
    for (const text of ['', '[1, 2]', 'services: {a: {ports: [80]}}', 'services: {a: {deploy: {replicas: many}}}']) {
      const err = (() => {
        try {
          normaliseStack(text, 'x', []);
        } catch (e) {
          return e as NetdoctorError;
        }
        return null;
      })();
      expect(err, text).toBeInstanceOf(NetdoctorError);
      expect(err!.exitCode).toBe(ExitCode.Usage);
      expect(err!.message).not.toContain('\n');
    }
  });

  it("names a stack after the first file's folder as docker does", () => {
    expect(defaultStackName('/srv/My Shop/docker-stack.yml')).toBe('myshop');
    expect(defaultStackName('deploy/prod/stack.yml')).toBe('prod');
  });
});

describe('docker stack config (the real docker CLI)', () => {
  it('prints exactly the recorded normalised output', async () => {
    expect(await stackConfig([stackFile('go'), stackFile('override-subnet')])).toBe(
      readFileSync(`${STACK_DIR}config/go+override-subnet.yml`, 'utf8'),
    );
  });

  it('interpolates from the environment as stack deploy does', async () => {
    const text = await stackConfig([stackFile('bad-interp')], { ...process.env, ND_GATE_TAG: '1.2' });
    expect(text).toContain('image: ndlab/busybox:1.2');
  });

  const bad: [string, string[], RegExp][] = [
    ['YAML syntax', ['bad-syntax'], /bad-syntax\.yml.*line 3/],
    ['an unknown top-level key', ['bad-key'], /bad-key\.yml.*bogus/],
    ['a required variable unset', ['bad-interp'], /bad-interp\.yml.*tag must be set/],
    ['a missing file', ['no-such-file'], /no-such-file\.yml/],
    ['a bad override after a good file', ['go', 'bad-key'], /go\.yml, .*bad-key\.yml.*bogus/],
  ];
  for (const [what, files, line] of bad) {
    it(`refuses ${what} in one line naming the file (exit 2)`, async () => {
      const err = await readStack(files.map(stackFile), 'x').then(
        () => null,
        (e: unknown) => e as NetdoctorError,
      );
      expect(err).toBeInstanceOf(NetdoctorError);
      expect(err!.exitCode).toBe(ExitCode.Usage);
      expect(err!.message).toMatch(line);
      expect(err!.message).not.toContain('\n');
    });
  }

  it('cannot run without a docker CLI (exit 3)', async () => {
    const err = await stackConfig([stackFile('go')], { PATH: '/nonexistent', DOCKER_CLI_PLUGIN_ORIGINAL_CLI_COMMAND: '/nonexistent/docker' }).catch(
      (e: unknown) => e as NetdoctorError,
    );
    expect(err).toBeInstanceOf(NetdoctorError);
    expect((err as NetdoctorError).exitCode).toBe(ExitCode.Unreachable);
  });
});

describe('Locator', () => {
  it('finds the line of a key, else of its closest ancestor', async () => {
    const l = await Locator.load([{ path: stackFile('port-web') }]);
    expect(l.locate(['services', 'app', 'ports'])).toEqual({ file: stackFile('port-web'), line: 6 });
    expect(l.locate(['services', 'app', 'deploy', 'replicas'])).toEqual({ file: stackFile('port-web'), line: 3 });
    expect(l.locate(['networks', 'nothing'])).toBeNull();
  });

  it('takes the last file that sets the key, and earlier files for what only they set', async () => {
    const l = await Locator.load([{ path: stackFile('go') }, { path: stackFile('override-subnet') }]);
    expect(l.locate(['networks', 'back', 'ipam'])).toEqual({ file: stackFile('override-subnet'), line: 4 });
    expect(l.locate(['networks', 'back', 'attachable'])).toEqual({ file: stackFile('go'), line: 15 });
    expect(l.locate(['services', 'app', 'deploy'])).toEqual({ file: stackFile('go'), line: 7 });
  });

  it('skips a file it cannot read or parse', async () => {
    const l = await Locator.load([{ path: stackFile('go') }, { path: stackFile('no-such-file') }, { path: '-' }]);
    expect(l.locate(['services', 'app'])).toEqual({ file: stackFile('go'), line: 3 });
  });
});
