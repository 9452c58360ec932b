/**
 * Secrets that reach a node for real, and a bundle of the lab that must not
 * hold any of them:
 *  - a service with the splunk logging driver and a token (its tasks cannot
 *    start: there is no Splunk; the spec holds the token, which is what
 *    matters), plus an Env value holding `]`;
 *  - the manager's dockerd in debug mode ("debug": true in its daemon.json,
 *    with a log-opt there too), so it logs that service's create request,
 *    Env and token included, escaped inside the log line;
 *  - a container printing a secret to its output. journald is not in the
 *    lab, so the log-file path is what is tested: dockerd's own
 *    /var/log/docker.log is the only source, and a container's output never
 *    enters the bundle.
 * Every extracted file (and the whole tar) is searched for every secret.
 * The lab is left as found: service, container, daemon.json and dockerd
 * restored.
 * Swarm TaskDefaults are covered by unit tests only: the Engine API drops
 * TaskDefaults.LogDriver on its way to swarmkit (moby/moby#53396), so the
 * lab's dockerd cannot be given one.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerdStart, dockerdStop, labEnsure, nodeDocker, type LabState } from '../lab/lab.js';
import { readBundle, type Bundle } from '../../src/bundle/read.js';
import { readTarGz } from '../../src/bundle/tar.js';
import { BIN, run } from './support/cli.js';
import { nd } from './support/netdoctor.js';

let lab: LabState;
let tmp: string;

const tag = randomBytes(4).toString('hex');
const SPLUNK_TOKEN = `SPLUNKTOK${randomBytes(8).toString('hex')}`;
const ENV_SECRET = `ENVSECRET${randomBytes(8).toString('hex')}`;
const ENV_VALUE = `x]${ENV_SECRET}`; // the `]` the old node-side sed stopped at
const OUTPUT_SECRET = `OUTSECRET${randomBytes(8).toString('hex')}`;
const LOGOPT_SECRET = `LOGOPT${randomBytes(8).toString('hex')}`;
const svcName = `ndsplunk-${tag}`;
const ctrName = `ndprint-${tag}`;

describe('secrets planted on a real node never reach the bundle', () => {
  let manager: LabState['nodes'][number];
  let daemonJson: string;
  let bundleFile: string;
  let b: Bundle;
  let stderr: string;
  let logOffset = 0;

  const docker = async (args: string[]) => {
    const r = await nodeDocker(manager.name, args);
    if (r.code !== 0) throw new Error(`docker ${args.join(' ')}: ${r.stderr}`);
    return r.stdout.trim();
  };

  beforeAll(async () => {
    lab = await labEnsure();
    tmp = mkdtempSync(join(tmpdir(), 'nd-secrets-'));
    manager = lab.nodes.find((n) => n.role === 'manager')!;
    daemonJson = join(lab.dir, 'nodes', manager.name, 'etc-docker', 'daemon.json');
    expect(existsSync(daemonJson), `${daemonJson} already exists: the lab is not as this test expects`).toBe(false);

    // The manager's dockerd in debug mode, with a log-opt in its daemon.json (json-file accepts "tag").
    writeFileSync(daemonJson, `${JSON.stringify({ debug: true, 'log-opts': { tag: LOGOPT_SECRET } }, null, 2)}\n`);
    await dockerdStop(manager.name);
    await dockerdStart(manager.name);
    logOffset = statSync(manager.dockerLog).size;

    // The service: splunk driver with a token, an Env value holding `]`.
    await docker([
      'service',
      'create',
      '--detach',
      '--name',
      svcName,
      '--restart-condition',
      'none',
      '--log-driver',
      'splunk',
      '--log-opt',
      `splunk-token=${SPLUNK_TOKEN}`,
      '--log-opt',
      'splunk-url=https://splunk.invalid:8088',
      '--env',
      `APP_SECRET=${ENV_VALUE}`,
      lab.image,
      'sleep',
      '3600',
    ]);
    // A container printing a secret (read from its env, so its command line holds none).
    await docker(['run', '-d', '--name', ctrName, '--env', `OUT=${OUTPUT_SECRET}`, lab.image, 'sh', '-c', 'echo "the secret is $OUT"; sleep 3600']);

    // Wait until the secrets are really there: in dockerd's log, in the container's output.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const log = readFileSync(manager.dockerLog).subarray(logOffset).toString('utf8');
      const out = await nodeDocker(manager.name, ['logs', ctrName]);
      if (log.includes(ENV_SECRET) && log.includes(SPLUNK_TOKEN) && out.stdout.includes(OUTPUT_SECRET)) break;
      if (Date.now() > deadline)
        throw new Error(
          `secrets not seen: debug log has env ${log.includes(ENV_SECRET)}, token ${log.includes(SPLUNK_TOKEN)}; container output ${out.stdout.includes(OUTPUT_SECRET)}`,
        );
      await new Promise((r) => setTimeout(r, 1000));
    }

    bundleFile = join(tmp, 'secrets.tar.gz');
    const r = await nd(['bundle', '-o', bundleFile, '--no-probe', '--log-lines', '1000000']);
    if (r.code !== 0) throw new Error(`bundle exited ${r.code}: ${r.stderr}`);
    stderr = r.stderr;
    b = await readBundle(bundleFile);
  }, 300_000);

  afterAll(async () => {
    const errors: string[] = [];
    const attempt = async (what: string, f: () => Promise<unknown>) => {
      try {
        await f();
      } catch (err) {
        errors.push(`${what}: ${(err as Error).message}`);
      }
    };
    if (manager) {
      await attempt('service rm', () => nodeDocker(manager.name, ['service', 'rm', svcName]));
      await attempt('container rm', () => nodeDocker(manager.name, ['rm', '-f', ctrName]));
      rmSync(daemonJson, { force: true });
      await attempt('dockerd restart', async () => {
        await dockerdStop(manager.name);
        await dockerdStart(manager.name);
      });
    }
    if (tmp) rmSync(tmp, { recursive: true, force: true });
    expect(errors).toEqual([]);
  }, 300_000);

  it('the secrets are real: in the service spec, the debug log, daemon.json and the container output', async () => {
    const spec = await docker(['service', 'inspect', svcName, '--format', '{{json .Spec.TaskTemplate}}']);
    expect(spec).toContain(SPLUNK_TOKEN);
    expect(spec).toContain(ENV_VALUE);
    const log = readFileSync(manager.dockerLog).subarray(logOffset).toString('utf8');
    const line = log.split('\n').find((l) => l.includes('form data') && l.includes(ENV_SECRET))!;
    // As dockerd logs it: JSON escaped inside the quoted msg, the `]` inside a value.
    expect(line).toContain(`\\"Env\\":[\\"APP_SECRET=${ENV_VALUE}\\"]`);
    expect(line).toContain(`\\"splunk-token\\":\\"${SPLUNK_TOKEN}\\"`);
    expect(readFileSync(daemonJson, 'utf8')).toContain(LOGOPT_SECRET);
    expect((await nodeDocker(manager.name, ['logs', ctrName])).stdout).toContain(OUTPUT_SECRET);
  });

  it('no extracted file, and not the whole tar, holds any of them', async () => {
    const raw = readFileSync(bundleFile);
    const files = await readTarGz(raw, { maxBytes: 2 ** 30, maxEntries: 1e6 });
    const haystacks: [string, string][] = [
      ['<the whole tar>', gunzipSync(raw).toString('latin1')],
      ...[...files].map(([p, d]): [string, string] => [p, d.toString('utf8')]),
    ];
    const secrets: [string, string][] = [
      ['splunk token', SPLUNK_TOKEN],
      ['Env value after "]"', ENV_SECRET],
      ['container output', OUTPUT_SECRET],
      ['daemon.json log-opt', LOGOPT_SECRET],
    ];
    const leaks: string[] = [];
    for (const [what, secret] of secrets) for (const [path, hay] of haystacks) if (hay.includes(secret)) leaks.push(`${what} in ${path}`);
    expect(leaks).toEqual([]);
    expect(files.size).toBeGreaterThan(50);
  });

  it('…because they were cut on the node and from the API answers, not by the last scan', () => {
    // The bundle command says when its last scan had to cut anything: it had nothing to cut.
    expect(stderr).not.toContain('cut from the bundle as a precaution');
    const text = (p: string) => b.files.get(p)!.toString('utf8');
    const m = manager.name;
    const log = text(`nodes/${m}/host/docker-log.txt`);
    const line = log.split('\n').find((l) => l.includes('form data') && l.includes(svcName))!;
    expect(line, 'the debug line of the service create is in the bundle').toBeDefined();
    expect(line).toContain('\\"Env\\":[\\"<redacted>\\"]');
    expect(line).toContain('\\"LogDriver\\":{\\"Name\\":\\"splunk\\",\\"Options\\":{\\"<redacted>\\":\\"<redacted>\\"}}');
    expect(line).toContain(`\\"Image\\":\\"${lab.image}`);
    // dockerd's own log file is the only source of the section.
    expect(text(`nodes/${m}/host/docker-log.meta`)).toContain('docker log: /var/log/docker.log');
    const dj = JSON.parse(text(`nodes/${m}/host/daemon-json.txt`));
    expect(dj).toEqual({ debug: true, 'log-opts': { '<redacted>': '<redacted>' } });
    const svc = (JSON.parse(text('cluster/services.json')) as any[]).find((s) => s.Spec.Name === svcName);
    expect(svc.Spec.TaskTemplate.LogDriver).toEqual({ Name: 'splunk', Options: { 'splunk-token': '<redacted>', 'splunk-url': '<redacted>' } });
    expect(svc.Spec.TaskTemplate.ContainerSpec.Env).toEqual(['APP_SECRET=<redacted>']);
    // The service's task carries the same driver and options: redacted too.
    const tasks = (JSON.parse(text('cluster/tasks.json')) as any[]).filter((t) => t.ServiceID === svc.ID);
    for (const t of tasks) expect(t.Spec.LogDriver.Options['splunk-token']).toBe('<redacted>');
    expect(JSON.parse(text(`nodes/${m}/host/docker-info.txt`)).Name).toBe(m);
  });
});

describe('--redact-ips through a jump host named in ssh_config', () => {
  const alias = `ndbastion-${tag}`;
  let dir: string;
  beforeAll(async () => {
    lab = await labEnsure();
    dir = mkdtempSync(join(tmpdir(), 'nd-jump-'));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** A bundle of nd2 and nd3 reached through nd1, which the operator calls by an alias. */
  async function jumpBundle(name: string, redact: boolean): Promise<{ file: string; b: Bundle }> {
    const nd1 = lab.nodes.find((n) => n.name === 'nd1')!;
    const cfg = join(dir, 'ssh_config');
    writeFileSync(cfg, `Host ${alias}\n  HostName ${nd1.ip}\n  User ${lab.user}\n`);
    const file = join(dir, name);
    const manager = `unix://${lab.nodes.find((n) => n.role === 'manager')!.dockerSocket}`;
    const args = [
      '-H',
      manager,
      'bundle',
      '-o',
      file,
      '--no-probe',
      '--log-lines',
      '20',
      '--node',
      'nd2',
      '--node',
      'nd3',
      '--jump',
      `${lab.user}@${alias}`,
      ...(redact ? ['--redact-ips'] : []),
      '--identity',
      lab.sshKey,
      '--known-hosts',
      lab.knownHosts,
      '--ssh-config',
      cfg,
    ];
    const r = await run(BIN, args, { DOCKER_HOST: '', DOCKER_CONTEXT: '', SSH_AUTH_SOCK: '' });
    if (r.code !== 0) throw new Error(`bundle exited ${r.code}: ${r.stderr}`);
    return { file, b: await readBundle(file) };
  }

  it("the alias is in no file, the hop is jump-1, and the offline findings equal the plain bundle's modulo the renaming", async () => {
    let diff: string[] = [];
    // The lab is shared: a change between the two runs shows as a difference; retry then.
    for (let attempt = 0; attempt < 3; attempt++) {
      const plain = await jumpBundle(`plain-${attempt}.tar.gz`, false);
      const red = await jumpBundle(`red-${attempt}.tar.gz`, true);
      // Collected through the hop for real.
      expect(plain.b.snapshot.nodes.map((n) => [n.name, n.status, n.target.via.length])).toEqual([
        ['nd2', 'ok', 1],
        ['nd3', 'ok', 1],
      ]);
      expect(plain.b.manifest.argv.join(' ')).toContain(alias);
      const everything = [...red.b.files].map(([p, d]) => `${p}\n${d.toString('utf8')}`).join('\n');
      expect(everything.includes(alias)).toBe(false);
      expect(everything.includes('ndbastion')).toBe(false);
      expect(red.b.manifest.argv).toContain(`${lab.user}@jump-1`);
      for (const n of lab.nodes) expect(everything.includes(n.ip), n.ip).toBe(false);

      const byId = new Map(plain.b.snapshot.cluster.nodes.map((n) => [n.id, n.name]));
      const names = new Map(red.b.snapshot.cluster.nodes.map((n) => [n.name, byId.get(n.id)!]));
      const back = (x: string | null) => (x === null ? null : (names.get(x) ?? x));
      const key = (f: { id: string; status: string; node: string | null; peer: string | null; network: string | null }) =>
        [f.id, f.status, f.node ?? '-', f.peer ?? '-', f.network ?? '-'].join(' | ');
      const offline = async (file: string) => {
        const r = await run(BIN, ['check', '--from-bundle', file, '--format', 'json'], {
          DOCKER_HOST: 'unix:///nonexistent/docker.sock',
          DOCKER_CONTEXT: '',
          SSH_AUTH_SOCK: '',
        });
        if (r.code !== 0 && r.code !== 1) throw new Error(`check --from-bundle exited ${r.code}: ${r.stderr}`);
        return (
          JSON.parse(r.stdout) as { findings: { id: string; status: string; node: string | null; peer: string | null; network: string | null }[] }
        ).findings;
      };
      const a = (await offline(plain.file)).map(key).sort();
      const c = (await offline(red.file)).map((f) => key({ ...f, node: back(f.node), peer: back(f.peer) })).sort();
      diff = [...a.filter((x) => !c.includes(x)).map((x) => `- ${x}`), ...c.filter((x) => !a.includes(x)).map((x) => `+ ${x}`)];
      if (diff.length === 0) break;
    }
    expect(diff).toEqual([]);
  }, 300_000);
});
