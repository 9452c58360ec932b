/**
 * The support bundle against the real lab: a bundle re-analysed offline
 * gives the findings of the live run inside it; secrets planted in the lab
 * (a service env value, the join tokens, the IPsec keys dockerd really logs
 * for an encrypted overlay it cannot program, the gossip keys) appear in no
 * file; --redact-ips keeps the findings; bad bundles are refused; the
 * shipped example bundle shows its FDB fault offline.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labEnsure, nodeDocker, nodeExec, type LabState } from '../lab/lab.js';
import { readBundle, type Bundle } from '../../src/bundle/read.js';
import { readTarGz } from '../../src/bundle/tar.js';
import type { Finding } from '../../src/checks/types.js';
import type { Report } from '../../src/report/model.js';
import { BIN, ROOT, expectOneLineError, run, type RunResult } from './support/cli.js';
import { nd } from './support/netdoctor.js';

let lab: LabState;
let tmp: string;
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const EXAMPLE = join(ROOT, 'examples', 'netdoctor-lab-fdb-wrong-dst.tar.gz');

beforeAll(async () => {
  lab = await labEnsure();
  tmp = mkdtempSync(join(tmpdir(), 'nd-bundle-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function makeBundle(name: string, args: string[] = []): Promise<{ file: string; r: RunResult; b: Bundle }> {
  const file = join(tmp, name);
  const r = await nd(['bundle', '-o', file, ...args]);
  if (r.code !== 0) throw new Error(`bundle exited ${r.code}: ${r.stderr}`);
  return { file, r, b: await readBundle(file) };
}

/** check --from-bundle with no way to reach any daemon: proves it is offline. */
async function offline(file: string, extra: string[] = []): Promise<{ r: RunResult; report: Report }> {
  const r = await run(BIN, ['check', '--from-bundle', file, '--format', 'json', ...extra], {
    DOCKER_HOST: 'unix:///nonexistent/docker.sock',
    DOCKER_CONTEXT: '',
    SSH_AUTH_SOCK: '',
  });
  if (r.code !== 0 && r.code !== 1) throw new Error(`check --from-bundle exited ${r.code}: ${r.stderr}`);
  return { r, report: JSON.parse(r.stdout) as Report };
}

const key = (f: Pick<Finding, 'id' | 'status' | 'node' | 'peer' | 'network'>): string =>
  [f.id, f.status, f.node ?? '-', f.peer ?? '-', f.network ?? '-'].join(' | ');
const keys = (fs: Finding[]): string[] => fs.map(key).sort();
const text = (b: Bundle, path: string): string => {
  const d = b.files.get(path);
  if (!d) throw new Error(`${path} not in the bundle (has ${[...b.files.keys()].slice(0, 20).join(', ')}…)`);
  return d.toString('utf8');
};

describe('a bundle of the lab', () => {
  let file: string;
  let b: Bundle;
  let stderr: string;
  beforeAll(async () => {
    ({
      file,
      b,
      r: { stderr },
    } = await makeBundle('lab.tar.gz'));
  });

  it('shows the staged progress on stderr and says where the bundle is', () => {
    expect(stderr).toContain('Discover cluster');
    expect(stderr).toMatch(/Probe: \d+ probes/);
    expect(stderr).toMatch(new RegExp(`bundle written to ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: \\d+ files`));
  });

  it('has a manifest with version, argv, times, cluster, nodes, schema, redaction and a checksum of every file', () => {
    const m = b.manifest;
    expect(m.tool).toEqual({ name: 'docker-netdoctor', version: VERSION });
    expect(m.argv).toContain('bundle');
    expect(Date.parse(m.endedAt)).toBeGreaterThanOrEqual(Date.parse(m.startedAt));
    expect(m.clusterId).toBe(b.snapshot.cluster.swarmId);
    expect(m.nodes).toEqual(lab.nodes.map((n) => ({ name: n.name, status: 'ok' })));
    expect(m.snapshotSchemaVersion).toBe(b.snapshot.schemaVersion);
    expect(m.redactIps).toBe(false);
    expect(Object.keys(m.files).sort()).toEqual([...b.files.keys()].filter((p) => p !== 'manifest.json').sort());
  });

  it("holds the snapshot with probes, both reports, the API answers, every raw section per node, dockerd's log and the run log", () => {
    expect(b.snapshot.probes?.ports.length).toBeGreaterThan(0);
    expect(text(b, 'report.md')).toContain('# docker netdoctor report');
    expect(b.report!.findings.length).toBeGreaterThan(0);
    expect(JSON.parse(text(b, 'cluster/info.json')).Swarm.ControlAvailable).toBe(true);
    const ndnet = JSON.parse(text(b, `cluster/networks/${lab.network}.json`));
    expect(ndnet.Peers.map((p: { IP: string }) => p.IP).sort()).toEqual(lab.nodes.map((n) => n.ip).sort());
    for (const f of ['cluster/nodes.json', 'cluster/services.json', 'cluster/tasks.json', 'cluster/swarm.json'])
      expect(JSON.parse(text(b, f))).toBeTruthy();
    const prefix = ndnet.Id.slice(0, 10);
    for (const n of lab.nodes) {
      const node = b.snapshot.nodes.find((x) => x.name === n.name)!;
      for (const section of Object.keys(node.raw)) expect(b.files.has(`nodes/${n.name}/${section}.txt`), section).toBe(true);
      expect(text(b, `nodes/${n.name}/netns/1-${prefix}/fdb.txt`)).toContain('vxlan0');
      expect(text(b, `nodes/${n.name}/host/hostname.txt`).trim()).toBe(n.name);
      expect(JSON.parse(text(b, `nodes/${n.name}/host/docker-info.txt`)).Name).toBe(n.name);
      expect(text(b, `nodes/${n.name}/host/dockerd-cmdline.txt`)).toContain('dockerd');
      expect(text(b, `nodes/${n.name}/host/daemon-json.meta`)).toMatch(/exit: 1[\s\S]*No such file/);
      // The lab's dockerd logs to /var/log/docker.log (no systemd in the node).
      expect(text(b, `nodes/${n.name}/host/docker-log.txt`)).toMatch(/^time="[^"]+" level=\w+ msg=/m);
      expect(text(b, `nodes/${n.name}/host/docker-log.meta`)).toContain('docker log: /var/log/docker.log (last 1000 lines)');
      expect(JSON.parse(text(b, `nodes/${n.name}/node.json`))).toMatchObject({ name: n.name, status: 'ok', target: { host: n.ip } });
    }
    const log = text(b, 'netdoctor.log');
    for (const stage of [
      '[start]',
      '[discover]',
      '[collect] nd1 (root@',
      '[collect] nd3: docker log: /var/log/docker.log',
      '[probe]',
      '[analyse]',
      '[end]',
    ])
      expect(log).toContain(stage);
  });

  it('check --from-bundle, offline, gives the findings of the live run inside it', async () => {
    const { report } = await offline(file);
    expect(keys(report.findings)).toEqual(keys(b.report!.findings));
    expect(report.findings).toEqual(b.report!.findings);
  });

  it('bundle inspect summarises it, as text and --json', async () => {
    const t = await run(BIN, ['bundle', 'inspect', file]);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).toMatch(new RegExp(`^Tool +docker-netdoctor ${VERSION.replace(/\./g, '\\.')}$`, 'm'));
    expect(t.stdout).toMatch(/^Nodes +nd1 ok, nd2 ok, nd3 ok$/m);
    const j = await run(BIN, ['bundle', 'inspect', file, '--json']);
    expect(j.code, j.stderr).toBe(0);
    const s = JSON.parse(j.stdout);
    expect(s).toMatchObject({ clusterId: b.manifest.clusterId, redactIps: false, findings: b.report!.summary, files: b.files.size, probes: true });
    expect(s.nodes.map((n: { name: string; status: string }) => `${n.name} ${n.status}`)).toEqual(['nd1 ok', 'nd2 ok', 'nd3 ok']);
  });

  it('the default file name is netdoctor-<cluster id>-<UTC time>.tar.gz in the current folder', async () => {
    const dir = mkdtempSync(join(tmp, 'cwd-'));
    const lab1 = lab.nodes.find((n) => n.role === 'manager')!;
    const r = await run(
      'sh',
      [
        '-c',
        `cd "${dir}" && exec "${BIN}" -H unix://${lab1.dockerSocket} bundle --no-probe --log-lines 0 --node nd1 --identity ${lab.sshKey} --known-hosts ${lab.knownHosts} --ssh-config none`,
      ],
      { DOCKER_HOST: '', DOCKER_CONTEXT: '', SSH_AUTH_SOCK: '' },
    );
    expect(r.code, r.stderr).toBe(0);
    const name = basename(/bundle written to (\S+):/.exec(r.stderr)![1]!);
    expect(name).toMatch(new RegExp(`^netdoctor-${b.manifest.clusterId}-\\d{8}T\\d{6}Z\\.tar\\.gz$`));
    const small = await readBundle(join(dir, name));
    expect(small.manifest.nodes.map((n) => n.name)).toEqual(['nd1']);
    expect(small.files.has('nodes/nd1/host/docker-log.txt')).toBe(false);
  });
});

describe('redaction: secrets planted in the lab reach no file of the bundle', () => {
  const suffix = randomBytes(3).toString('hex');
  const secretSvc = `ndsecret-${suffix}`;
  const encNet = `ndenc-${suffix}`;
  const encSvc = `ndencsvc-${suffix}`;
  const password = `pw-${randomBytes(12).toString('hex')}`;
  const apiToken = `tok-${randomBytes(12).toString('hex')}`;
  let workerToken: string;
  let managerToken: string;
  let ipsecKeys: string[] = [];
  let gossipKeys: string[] = [];
  let bundle: { file: string; b: Bundle };
  let encNetId = '';

  const docker = async (args: string[]) => {
    const r = await nodeDocker('nd1', args);
    if (r.code !== 0) throw new Error(`docker ${args.join(' ')}: ${r.stderr}`);
    return r.stdout.trim();
  };

  beforeAll(async () => {
    // Only keys logged for our network count: read the logs from here on.
    const offsets = lab.nodes.map((n) => statSync(n.dockerLog).size);
    workerToken = await docker(['swarm', 'join-token', '-q', 'worker']);
    managerToken = await docker(['swarm', 'join-token', '-q', 'manager']);
    await docker(['service', 'create', '--detach', '--name', secretSvc, '--env', `DB_PASSWORD=${password}`, lab.image, 'sleep', '3600']);
    // An update: the first env is now in PreviousSpec too, the new one in Spec and the new task.
    await docker(['service', 'update', '--detach', '--env-add', `API_TOKEN=${apiToken}`, secretSvc]);
    encNetId = await docker(['network', 'create', '-d', 'overlay', '--opt', 'encrypted', encNet]);
    await docker(['service', 'create', '--detach', '--name', encSvc, '--network', encNet, '--mode', 'global', lab.image, 'sleep', '3600']);
    // This kernel has no XFRM: each dockerd fails to add the SAs and logs them, key included.
    const deadline = Date.now() + 90_000;
    for (;;) {
      const logs = lab.nodes.map((n, i) => readFileSync(n.dockerLog).subarray(offsets[i]).toString('utf8'));
      ipsecKeys = [...new Set(logs.flatMap((l) => [...l.matchAll(/Key: 0x([0-9a-fA-F]{16,})/g)].map((m) => m[1]!)))];
      // The gossip keys are logged when dockerd joins: take them from the whole log.
      gossipKeys = [
        ...new Set(
          lab.nodes
            .map((n) => readFileSync(n.dockerLog, 'utf8'))
            .flatMap((l) =>
              [...l.matchAll(/Keys:\[(\[[0-9 ]+\](?: \[[0-9 ]+\])*)\]/g)].flatMap((m) => m[1]!.match(/\[[0-9 ]+\]/g)!.map((k) => k.slice(1, -1))),
            ),
        ),
      ];
      const up = (await docker(['service', 'ls', '--filter', `name=${encSvc}`, '--format', '{{.Replicas}}'])).split('/');
      const secretUp = await docker(['service', 'ps', secretSvc, '--filter', 'desired-state=running', '--format', '{{.CurrentState}}']);
      if (ipsecKeys.length > 0 && up[0] === up[1] && up[0] !== '0' && secretUp.startsWith('Running')) break;
      if (Date.now() > deadline)
        throw new Error(
          `no "Key: 0x" in the nodes' docker logs (${ipsecKeys.length} keys), or ${encSvc} (${up.join('/')}) or ${secretSvc} (${secretUp}) not running`,
        );
      await new Promise((r) => setTimeout(r, 2000));
    }
    // The whole log (not only its last 1000 lines), every key line in it.
    bundle = await makeBundle('secrets.tar.gz', ['--no-probe', '--log-lines', '1000000']);
  }, 240_000);

  afterAll(async () => {
    await nodeDocker('nd1', ['service', 'rm', secretSvc, encSvc]);
    // The network goes once the tasks are gone (and a moment after its rm).
    const gone = async () => (await nodeDocker('nd1', ['network', 'ls', '--filter', `name=${encNet}`, '--format', '{{.Name}}'])).stdout.trim() === '';
    const deadline = Date.now() + 90_000;
    while (!(await gone()) && Date.now() < deadline) {
      await nodeDocker('nd1', ['network', 'rm', encNet]);
      await new Promise((res) => setTimeout(res, 2000));
    }
    expect(await gone()).toBe(true);
    // dockerd removes the network's sandboxes (1-<id>, lb_<id>) a little later: wait, so
    // that nobody's next run sees them as stale.
    if (encNetId !== '') {
      const prefix = encNetId.slice(0, 9);
      const left = async () =>
        (await Promise.all(lab.nodes.map((n) => nodeExec(n.name, 'ls /var/run/docker/netns')))).some((r) => r.stdout.includes(prefix));
      const until = Date.now() + 180_000;
      while ((await left()) && Date.now() < until) await new Promise((res) => setTimeout(res, 3000));
      expect(await left()).toBe(false);
    }
    const svcs = await nodeDocker('nd1', ['service', 'ls', '--format', '{{.Name}}']);
    expect(svcs.stdout).not.toContain(suffix);
  }, 300_000);

  it("the secrets are real: the key is in the nodes' own logs, the env value in the service spec", async () => {
    expect(ipsecKeys.length).toBeGreaterThan(0);
    expect(gossipKeys.length).toBeGreaterThan(0);
    expect(workerToken).toMatch(/^SWMTKN-1-/);
    const spec = await docker([
      'service',
      'inspect',
      secretSvc,
      '--format',
      '{{json .Spec.TaskTemplate.ContainerSpec.Env}} {{json .PreviousSpec.TaskTemplate.ContainerSpec.Env}}',
    ]);
    expect(spec).toContain(password);
    expect(spec).toContain(apiToken);
  });

  it('no file holds any of them, decompressed, whole archive included', async () => {
    const raw = readFileSync(bundle.file);
    const files = await readTarGz(raw, { maxBytes: 2 ** 30, maxEntries: 1e6 });
    const haystacks: [string, string][] = [
      ['<the whole tar>', gunzipSync(raw).toString('latin1')],
      ...[...files].map(([p, d]): [string, string] => [p, d.toString('utf8')]),
    ];
    const secrets: [string, string][] = [
      ['DB_PASSWORD value', password],
      ['API_TOKEN value', apiToken],
      ['worker join token', workerToken],
      ['manager join token', managerToken],
      ['worker token secret part', workerToken.split('-').pop()!],
      ['manager token secret part', managerToken.split('-').pop()!],
      ...ipsecKeys.map((k): [string, string] => ['IPsec key', k]),
      ...gossipKeys.map((k): [string, string] => ['gossip key', k]),
    ];
    const leaks: string[] = [];
    for (const [what, secret] of secrets) {
      for (const [path, hay] of haystacks)
        if (hay.toLowerCase().includes(secret.toLowerCase())) leaks.push(`${what} ${secret.slice(0, 12)}… in ${path}`);
    }
    expect(leaks).toEqual([]);
    expect(files.size).toBeGreaterThan(50);
  });

  it('…because they were cut, not because they were not looked at', () => {
    const b = bundle.b;
    const svc = (
      JSON.parse(text(b, 'cluster/services.json')) as {
        Spec: { Name: string; TaskTemplate: { ContainerSpec: { Env: string[] } } };
        PreviousSpec?: { TaskTemplate: { ContainerSpec: { Env: string[] } } };
      }[]
    ).find((x) => x.Spec.Name === secretSvc)!;
    expect(svc.Spec.TaskTemplate.ContainerSpec.Env.sort()).toEqual(['API_TOKEN=<redacted>', 'DB_PASSWORD=<redacted>']);
    expect(svc.PreviousSpec!.TaskTemplate.ContainerSpec.Env).toEqual(['DB_PASSWORD=<redacted>']);
    // The snapshot keeps the task the update replaced too (recently finished): each one's Env is cut.
    const tasks = (
      JSON.parse(text(b, 'cluster/tasks.json')) as { ServiceID: string; DesiredState: string; Spec: { ContainerSpec: { Env: string[] } } }[]
    ).filter((t) => b.snapshot.cluster.services.some((x) => x.id === t.ServiceID && x.name === secretSvc));
    const task = tasks.find((t) => t.DesiredState === 'running')!;
    expect(task.Spec.ContainerSpec.Env.sort()).toEqual(['API_TOKEN=<redacted>', 'DB_PASSWORD=<redacted>']);
    for (const t of tasks) for (const e of t.Spec.ContainerSpec.Env) expect(e).toMatch(/^[A-Z_]+=<redacted>$/);
    const logs = lab.nodes.map((n) => text(b, `nodes/${n.name}/host/docker-log.txt`)).join('\n');
    expect(logs).toMatch(/Failed Adding [fr]SA\{.*Aead: \{Name: rfc4106\(gcm\(aes\)\), Key: <redacted>/);
    expect(logs).toContain('Keys:[[<redacted>]');
    expect(b.snapshot.cluster.networks.find((n) => n.name === encNet)?.encrypted).toBe(true);
    for (const n of lab.nodes) {
      const sb = b.snapshot.nodes.find((x) => x.name === n.name)!.sandboxes.find((s) => s.networkName === encNet);
      expect(sb, `${n.name} has a sandbox of ${encNet}`).toBeDefined();
      // Docker's SAs live in the host namespace, where libnetwork programs them (see test/e2e/ipsec.test.ts).
      expect(b.files.has(`nodes/${n.name}/host/xfrm-state.txt`)).toBe(true);
    }
    expect(JSON.parse(text(b, 'cluster/swarm.json')).JoinTokens).toBeUndefined();
  });
});

describe('--redact-ips', () => {
  it('the offline findings equal those of an unredacted bundle modulo the renaming, and no lab address or hostname is left', async () => {
    let diff: string[] = [];
    // The lab is shared: a change between the two runs shows as a difference; retry then.
    for (let attempt = 0; attempt < 3; attempt++) {
      const plain = await makeBundle(`plain-${attempt}.tar.gz`, ['--no-probe']);
      const red = await makeBundle(`red-${attempt}.tar.gz`, ['--no-probe', '--redact-ips']);
      expect(red.b.manifest.redactIps).toBe(true);
      expect(red.b.manifest.nodes.map((n) => n.name)).toEqual(['node-1', 'node-2', 'node-3']);

      // Names back through the node ids (ids are not pseudonymised).
      const byId = new Map(plain.b.snapshot.cluster.nodes.map((n) => [n.id, n.name]));
      const names = new Map(red.b.snapshot.cluster.nodes.map((n) => [n.name, byId.get(n.id)!]));
      const back = (x: string | null) => (x === null ? null : (names.get(x) ?? x));
      const a = keys((await offline(plain.file)).report.findings);
      const r = (await offline(red.file)).report.findings.map((f) => ({ ...f, node: back(f.node), peer: back(f.peer) }));
      const c = keys(r);
      diff = [...a.filter((x) => !c.includes(x)).map((x) => `- ${x}`), ...c.filter((x) => !a.includes(x)).map((x) => `+ ${x}`)];
      // The redacted bundle's own report agrees with its offline analysis.
      expect(keys((await offline(red.file)).report.findings)).toEqual(keys(red.b.report!.findings));

      const everything = [...red.b.files].map(([p, d]) => `${p}\n${d.toString('utf8')}`).join('\n');
      for (const n of lab.nodes) {
        expect(everything.includes(n.ip), n.ip).toBe(false);
        expect(new RegExp(`(?<![A-Za-z0-9_-])${n.name}(?![A-Za-z0-9_-])`).test(everything), n.name).toBe(false);
      }
      expect(everything).not.toContain('10.213.0.');
      if (diff.length === 0) break;
    }
    expect(diff).toEqual([]);
  });
});

describe('bad bundles on the command line: one line, exit 2', () => {
  let good: Buffer;
  beforeAll(async () => {
    good = readFileSync((await makeBundle('good.tar.gz', ['--no-probe', '--node', 'nd1', '--log-lines', '10'])).file);
  });
  const cases: [string, () => Buffer, RegExp][] = [
    ['not gzip', () => Buffer.from('{"schemaVersion":1}'), /not gzip-compressed/],
    ['truncated', () => good.subarray(0, Math.floor(good.length / 2)), /truncated or corrupt gzip/],
    [
      'tampered',
      () => {
        const t = gunzipSync(good);
        const at = t.indexOf('# docker netdoctor report');
        t.write('# DOCKER', at);
        return gzipSync(t);
      },
      /checksum mismatch for report\.md/,
    ],
  ];
  for (const [what, make, re] of cases) {
    it(what, async () => {
      const file = join(tmp, `bad-${what}.tar.gz`);
      writeFileSync(file, make());
      for (const args of [
        ['check', '--from-bundle', file],
        ['bundle', 'inspect', file],
      ]) {
        const r = await run(BIN, args, { DOCKER_HOST: 'unix:///nonexistent/docker.sock' });
        expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
        expect(expectOneLineError(r)).toMatch(re);
      }
    });
  }
});

describe('the example bundle (examples/)', () => {
  it("shows the FDB fault recorded in the lab, offline: nd2 sends nd3's task to nd1 on ndnet", async () => {
    const b = await readBundle(EXAMPLE);
    const { r, report } = await offline(EXAMPLE);
    expect(r.code).toBe(1);
    const f = report.findings.filter((x) => x.id === 'overlay.fdb.wrong-dst' && x.status === 'fail');
    expect(f.map((x) => [x.node, x.peer, x.network])).toContainEqual(['nd2', 'nd3', 'ndnet']);
    expect(f.find((x) => x.node === 'nd2')!.detail).toContain('10.213.0.11');
    // Everything the live run found, found again. The example was recorded by
    // an earlier catalogue: checks added since then add findings of their own.
    const recordedIds = new Set(b.report!.findings.map((x) => x.id));
    expect(keys(report.findings.filter((x) => recordedIds.has(x.id)))).toEqual(keys(b.report!.findings));
    expect(b.manifest.redactIps).toBe(false);
    const all = [...b.files.values()].map((d) => d.toString('utf8')).join('\n');
    expect(all).not.toMatch(/SWMTKN-1-[0-9a-z]{20,}/);
    expect(all).not.toMatch(/Key: 0x[0-9a-f]{16,}/i);
  });
});
