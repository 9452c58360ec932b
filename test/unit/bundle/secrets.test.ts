/**
 * Secrets on real shapes: the debug line a lab dockerd 20.10 really logged
 * for `docker service create --log-driver splunk --log-opt splunk-token=…
 * --env 'S9ENV=abc]…'` (an Env value holding `]`, escaped inside the log
 * line's quoted message), that service's `docker service inspect` from the
 * same lab, daemon.json with log-opts as Docker's logging docs write it,
 * dockerd's command line with --log-opt, and journalctl's export format.
 * The node-side sed (GNU and busybox) and the bundle's last scan must cut
 * the same things, and the last scan must catch every kind on its own.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pseudonymiserFor } from '../../../src/bundle/pseudonymise.js';
import { readTarGz } from '../../../src/bundle/tar.js';
import { scrubFile, scrubText } from '../../../src/bundle/secrets.js';
import { buildBundle } from '../../../src/bundle/write.js';
import { redactClusterRaw } from '../../../src/collect/cluster.js';
import { JOURNAL_JSON_AWK, REDACT_FILE, REDACT_LOG, SECRET_FILTERS, dockerLogSection } from '../../../src/collect/script.js';
import { analyse } from '../../../src/run/check.js';
import type { ClusterSnapshot } from '../../../src/snapshot/types.js';
import { KEY, labRun } from './helpers.js';

const FIXTURES = join(__dirname, '..', '..', 'fixtures', 'secrets');
/** Recorded in the lab (nd1, dockerd 20.10.24 with "debug": true). */
const DEBUG_LINE = readFileSync(join(FIXTURES, 'dockerd-debug-service-create.log'), 'utf8').trimEnd();
const SERVICE = JSON.parse(readFileSync(join(FIXTURES, 'service-inspect-splunk.json'), 'utf8')) as Record<string, any>[];
const SPLUNK_TOKEN = 'S9SPLUNKTOKEN-1234';
const ENV_SECRET = 'S9ENVSECRET';

/** The JSON inside the debug line's msg="…", unescaped: the same request as another tool would print it. */
const UNESCAPED = JSON.parse(`"${/msg="form data: (.*)"$/.exec(DEBUG_LINE)![1]!}"`) as string;

const DAEMON_JSON = `{
  "log-driver": "splunk",
  "log-opts": {
    "splunk-token": "176FCEBF-4CF5-4EDF-91BC-703796522D20",
    "splunk-url": "https://splunkhost:8088",
    "splunk-insecureskipverify": "true",
    "tag": "{{.Name}}/{{.ID}} a}b"
  },
  "debug": true,
  "default-address-pools": [{ "base": "10.10.0.0/16", "size": 24 }],
  "proxies": { "http-proxy": "http://proxyuser:proxypass1@proxy.example:3128" }
}
`;
const DAEMON_SECRETS = ['176FCEBF-4CF5-4EDF-91BC-703796522D20', 'splunkhost', '{{.Name}}', 'proxypass1'];

const SHELLS = ['sh', ...(spawnSync('busybox', ['true']).status === 0 ? ['busybox'] : [])];
function sh(shell: string, script: string, input = ''): string {
  const r = spawnSync(shell === 'busybox' ? 'busybox' : shell, shell === 'busybox' ? ['sh', '-c', script] : ['-c', script], {
    input,
    encoding: 'utf8',
    timeout: 20_000,
  });
  if (r.status !== 0) throw new Error(`${shell} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}
const sedOnNode = (shell: string, text: string) =>
  sh(shell, shell === 'busybox' ? REDACT_LOG.replace(/^sed /, 'busybox sed ') : REDACT_LOG, `${text}\n`).replace(/\n$/, '');

describe('a debug dockerd log line with an Env value holding "]" and a splunk token', () => {
  it('the recorded line holds both secrets (the fixture is what it says)', () => {
    expect(DEBUG_LINE).toContain(`\\"Env\\":[\\"S9ENV=abc]${ENV_SECRET}\\"]`);
    expect(DEBUG_LINE).toContain(`\\"splunk-token\\":\\"${SPLUNK_TOKEN}\\"`);
    expect(UNESCAPED).toContain(`"Env":["S9ENV=abc]${ENV_SECRET}"]`);
  });

  for (const shell of SHELLS) {
    it(`${shell}: the node's sed cuts both, escaped and as is, and keeps the rest of the line`, () => {
      for (const line of [DEBUG_LINE, UNESCAPED]) {
        const out = sedOnNode(shell, line);
        expect(out).not.toContain(ENV_SECRET);
        expect(out).not.toContain(SPLUNK_TOKEN);
        expect(out).not.toContain('splunk.example');
        // The same as the bundle's last scan, character for character.
        expect(out).toBe(scrubText(line).text);
      }
      const esc = sedOnNode(shell, DEBUG_LINE);
      expect(esc).toContain('\\"Env\\":[\\"<redacted>\\"],\\"Image\\":\\"ndlab/busybox:latest\\"');
      expect(esc).toContain('\\"LogDriver\\":{\\"Name\\":\\"splunk\\",\\"Options\\":{\\"<redacted>\\":\\"<redacted>\\"}}');
      const plain = sedOnNode(shell, UNESCAPED);
      expect(JSON.parse(plain).TaskTemplate.LogDriver).toEqual({ Name: 'splunk', Options: { '<redacted>': '<redacted>' } });
      expect(JSON.parse(plain).TaskTemplate.ContainerSpec.Image).toBe('ndlab/busybox:latest');
    });
  }

  it('an Env array that does not parse (cut short, escaped twice) loses the rest of its line; "Env":null is left alone', () => {
    const short = DEBUG_LINE.slice(0, DEBUG_LINE.indexOf(ENV_SECRET) + 3);
    const twice = DEBUG_LINE.replace(/\\"/g, '\\\\\\"');
    for (const line of [short, twice]) {
      const out = scrubText(line).text;
      expect(out).not.toContain(ENV_SECRET.slice(0, 3) === 'S9E' ? 'S9ENVSEC' : ENV_SECRET);
      expect(out).toMatch(/Env\\*":\[<redacted>: rest of line]$/);
      for (const shell of SHELLS) expect(sedOnNode(shell, line)).toBe(out);
    }
    // The form data of `docker run` without -e, as public debug logs show it.
    const noEnv = String.raw`Nov 02 14:23:10 ubuntu20.04 dockerd[6665]: time="2021-11-02T14:23:10.769325989Z" level=debug msg="form data: {\"AttachStderr\":false,\"AttachStdin\":false,\"AttachStdout\":false,\"Cmd\":null,\"Domainname\":\"\",\"Entrypoint\":null,\"Env\":null,\"ExposedPorts\":{\"80/tcp\":{}}}"`;
    expect(scrubText(noEnv).text).toBe(noEnv);
    for (const shell of SHELLS) expect(sedOnNode(shell, noEnv)).toBe(noEnv);
  });

  it('the whole host/docker-log section on the node: nothing of either secret reaches stdout', () => {
    const dir = spawnSync('mktemp', ['-d'], { encoding: 'utf8' }).stdout.trim();
    try {
      const f = join(dir, 'docker.log');
      spawnSync('sh', ['-c', `cat > '${f}'`], { input: `${DEBUG_LINE}\n${UNESCAPED}\n` });
      for (const shell of SHELLS) {
        const out = sh(
          shell,
          `have() { command -v "$1" >/dev/null 2>&1; }\n${dockerLogSection({ lines: 100 }, { own: [f], syslog: [] }).replace('sec host/docker-log ndlog', 'ndlog')}`,
        );
        expect(out.trimEnd().split('\n')).toHaveLength(2);
        for (const s of [ENV_SECRET, SPLUNK_TOKEN]) expect(out).not.toContain(s);
      }
    } finally {
      spawnSync('rm', ['-rf', dir]);
    }
  });
});

describe('daemon.json with log-opts', () => {
  for (const shell of SHELLS) {
    it(`${shell}: the node's file filter cuts every log-opt and secret, keeps the file valid JSON and the rest as it was`, () => {
      const out = sh(shell, shell === 'busybox' ? REDACT_FILE.replace(/^sed /, 'busybox sed ') : REDACT_FILE, DAEMON_JSON);
      for (const s of DAEMON_SECRETS) expect(out).not.toContain(s);
      const d = JSON.parse(out);
      expect(d['log-driver']).toBe('splunk');
      expect(d['log-opts']).toEqual({ '<redacted>': '<redacted>' });
      expect(d.debug).toBe(true);
      expect(d['default-address-pools']).toEqual([{ base: '10.10.0.0/16', size: 24 }]);
      expect(d.proxies['http-proxy']).toBe('http://<redacted>@proxy.example:3128');
    });
  }

  it('the last scan, on its own, cuts every value under log-opts and keeps the option names', () => {
    const hits: Record<string, number> = {};
    const out = scrubFile('nodes/nd1/host/daemon-json.txt', Buffer.from(DAEMON_JSON), hits).toString();
    for (const s of DAEMON_SECRETS) expect(out).not.toContain(s);
    expect(Object.keys(JSON.parse(out)['log-opts']).sort()).toEqual(['splunk-insecureskipverify', 'splunk-token', 'splunk-url', 'tag']);
    expect(hits['logging-driver options']).toBe(4);
  });
});

describe("dockerd's command line with --log-opt", () => {
  let child: ReturnType<typeof spawn>;
  const args = [
    '-H',
    'fd://',
    '--log-driver',
    'splunk',
    '--log-opt',
    'splunk-token=CMDTOKEN1',
    '--log-opt=splunk-url=https://u:CMDPASS2@splunk:8088',
    '--log-opt',
    'tag=a b CMDSECRET3',
    '--debug',
  ];
  beforeAll(() => {
    // A real process whose /proc/PID/cmdline holds these arguments, NUL-separated.
    child = spawn('sh', ['-c', 'sleep 30; :', '/usr/bin/dockerd', ...args], { stdio: 'ignore' });
  });
  afterAll(() => {
    child.kill();
  });

  for (const shell of SHELLS) {
    it(`${shell}: host/dockerd-cmdline cuts every --log-opt value (spaces included) and keeps the rest`, () => {
      const out = sh(shell, `have() { command -v "$1" >/dev/null 2>&1; }\nDPID=${child.pid}\n${SECRET_FILTERS}\nndcmdline`).trim();
      for (const s of ['CMDTOKEN1', 'CMDPASS2', 'CMDSECRET3', 'a b']) expect(out).not.toContain(s);
      expect(out).toBe(
        'sh -c sleep 30; : /usr/bin/dockerd -H fd:// --log-driver splunk --log-opt splunk-token=<redacted> --log-opt=splunk-url=<redacted> --log-opt tag=<redacted> --debug',
      );
    });
  }

  it('the last scan cuts --log-opt values from the command line as collected, and from ExecStart lines', () => {
    const cmdline = `/usr/bin/dockerd ${args.join(' ')}`;
    const exec = `ExecStart={ path=/usr/bin/dockerd ; argv[]=${cmdline} ; ignore_errors=no ; start_time=[n/a] ; stop_time=[n/a] ; pid=0 ; code=(null) ; status=0/0 }`;
    for (const t of [cmdline, exec]) {
      const out = scrubText(t).text;
      for (const s of ['CMDTOKEN1', 'CMDPASS2']) expect(out).not.toContain(s);
      expect(out).toContain('--log-opt splunk-token=<redacted>');
      expect(out).toContain('--debug');
    }
  });
});

describe("journald: only dockerd's own entries", () => {
  // `journalctl -o json`: one object a line, every value a string (or an array of bytes when binary).
  const common = {
    __REALTIME_TIMESTAMP: '1764428400000000',
    _BOOT_ID: '6c7c6013a8e44a8e85f1f6ec7a2e3a35',
    _HOSTNAME: 'nd1',
    _UID: '0',
    _SYSTEMD_UNIT: 'docker.service',
    _COMM: 'dockerd',
    _EXE: '/usr/bin/dockerd',
    _CMDLINE: '/usr/bin/dockerd -H fd:// --log-opt splunk-token=JCMDTOKEN',
    _PID: '6665',
  };
  const entry = (fields: Record<string, unknown>) => JSON.stringify({ __CURSOR: 's=1;i=1', ...common, ...fields });
  const own = entry({
    _TRANSPORT: 'stdout',
    SYSLOG_IDENTIFIER: 'dockerd',
    MESSAGE: 'time="2025-11-29T15:00:00.000000000Z" level=info msg="API listen on /run/docker.sock"',
  });
  const ownDebug = entry({ _TRANSPORT: 'stdout', SYSLOG_IDENTIFIER: 'dockerd', MESSAGE: DEBUG_LINE });
  // What the journald log driver writes for a container: dockerd sends it, so _COMM and the unit are dockerd's.
  const container = entry({
    MESSAGE: 'DB_PASSWORD=JOURNALSECRET "CONTAINER_ID": x',
    CONTAINER_ID: '3f1c9a0b7e2d',
    CONTAINER_ID_FULL: '3f1c9a0b7e2d'.padEnd(64, '0'),
    CONTAINER_NAME: 'app',
    CONTAINER_TAG: 'dockerd',
    IMAGE_NAME: 'busybox',
    SYSLOG_IDENTIFIER: 'dockerd',
    _TRANSPORT: 'journal',
  });
  const bytes = [...Buffer.from('line one\u001b[2J BINSECRET')];
  const containerBinary = entry({ MESSAGE: bytes, CONTAINER_ID: 'aaaaaaaaaaaa', SYSLOG_IDENTIFIER: 'dockerd', _TRANSPORT: 'journal' });
  const ownBinary = entry({ MESSAGE: bytes, SYSLOG_IDENTIFIER: 'dockerd', _TRANSPORT: 'stdout' });
  const ownEscape = entry({
    MESSAGE: 'level=warning msg="odd \u001b[2J name \\ back/slash\ttab"',
    SYSLOG_IDENTIFIER: 'dockerd',
    _TRANSPORT: 'stdout',
  });
  const input = `${[own, container, containerBinary, ownBinary, ownEscape, ownDebug].join('\n')}\n`;

  for (const shell of SHELLS) {
    it(`${shell}: entries with CONTAINER_ID never print, even tagged dockerd; dockerd's own lines do, as dockerd[PID]: MESSAGE`, () => {
      const awk = shell === 'busybox' ? JOURNAL_JSON_AWK.replace(/^awk /, 'busybox awk ') : JOURNAL_JSON_AWK;
      const out = sh(shell, awk, input);
      for (const s of ['JOURNALSECRET', 'BINSECRET', 'JCMDTOKEN', '\u001b']) expect(out).not.toContain(s);
      expect(out.trimEnd().split('\n')).toEqual([
        'dockerd[6665]: time="2025-11-29T15:00:00.000000000Z" level=info msg="API listen on /run/docker.sock"',
        'dockerd[6665]: <binary message not shown>',
        'dockerd[6665]: level=warning msg="odd \\u001b[2J name \\ back/slash\ttab"',
        `dockerd[6665]: ${DEBUG_LINE}`,
      ]);
      // Then the log filter, as on the node: the debug line loses its secrets.
      const red = sedOnNode(shell, out);
      for (const s of [ENV_SECRET, SPLUNK_TOKEN]) expect(red).not.toContain(s);
    });
  }

  it('the section asks journald for dockerd by _COMM or SYSLOG_IDENTIFIER, never for the unit', () => {
    const s = dockerLogSection({ lines: 50, since: 1764428400 });
    expect(s).toContain('journalctl _COMM=dockerd + SYSLOG_IDENTIFIER=dockerd -o json --no-pager -n 50 --since @1764428400');
    expect(s).not.toContain('-u docker');
  });
});

/** The manager's answers for that service, its task, and a swarm whose TaskDefaults name a logging driver. */
function clusterWithSecrets(): { services: any[]; tasks: any[]; swarm: any; info: any } {
  const svc = structuredClone(SERVICE[0]!);
  // An update: the old spec (token and env included) stays as PreviousSpec.
  svc.PreviousSpec = structuredClone(svc.Spec);
  svc.Spec.TaskTemplate.ContainerSpec.Env.push('API_TOKEN=S9APITOKEN');
  const task = {
    ID: 'zn6gbumi64ekq96l56twuwi9g',
    ServiceID: svc.ID,
    NodeID: 'x',
    Slot: 1,
    Spec: structuredClone(svc.Spec.TaskTemplate),
    Status: { State: 'running' },
    DesiredState: 'running',
  };
  const taskDefaults = {
    LogDriver: {
      Name: 'awslogs',
      Options: { 'awslogs-region': 'eu-west-1', 'awslogs-credentials-endpoint': '/creds/S9AWSCRED', 'awslogs-group': 'S9GROUP' },
    },
  };
  const swarm = {
    ID: 'swarm',
    Spec: { Name: 'default', TaskDefaults: taskDefaults, Labels: { 'com.example.api-key': 'S9LABELKEY', owner: 'ops' } },
    JoinTokens: { Worker: 'SWMTKN-1-aaaa', Manager: 'SWMTKN-1-bbbb' },
  };
  const info = { Name: 'nd1', Swarm: { NodeID: 'x', Cluster: { ID: 'swarm', Spec: structuredClone(swarm.Spec) } } };
  return { services: [svc], tasks: [task], swarm, info };
}
const API_SECRETS = [SPLUNK_TOKEN, ENV_SECRET, 'S9APITOKEN', 'splunk.example', 'S9AWSCRED', 'S9GROUP', 'S9LABELKEY', 'SWMTKN'];

describe("the manager's Engine API answers: log-driver options redacted by key", () => {
  it('services (Spec and PreviousSpec), tasks, swarm TaskDefaults and docker info keep names, never values', () => {
    const c = clusterWithSecrets();
    const raw = redactClusterRaw({ nodes: [], networks: [], ...c });
    const text = JSON.stringify(raw);
    for (const s of API_SECRETS) expect(text, s).not.toContain(s);
    const svc = (raw.services as any[])[0];
    for (const spec of [svc.Spec, svc.PreviousSpec]) {
      expect(spec.TaskTemplate.LogDriver).toEqual({ Name: 'splunk', Options: { 'splunk-token': '<redacted>', 'splunk-url': '<redacted>' } });
    }
    expect(svc.Spec.TaskTemplate.ContainerSpec.Env).toEqual(['S9ENV=<redacted>', 'API_TOKEN=<redacted>']);
    expect((raw.tasks as any[])[0].Spec.LogDriver.Options['splunk-token']).toBe('<redacted>');
    expect((raw.swarm as any).Spec.TaskDefaults.LogDriver).toEqual({
      Name: 'awslogs',
      Options: { 'awslogs-region': '<redacted>', 'awslogs-credentials-endpoint': '<redacted>', 'awslogs-group': '<redacted>' },
    });
    expect((raw.swarm as any).Spec.Labels).toEqual({ 'com.example.api-key': '<redacted>', owner: 'ops' });
    expect((raw.info as any).Swarm.Cluster.Spec.TaskDefaults.LogDriver.Options['awslogs-group']).toBe('<redacted>');
    expect((raw.swarm as any).JoinTokens).toBeUndefined();
    // What checks read is kept: name, mode, image.
    expect(svc.Spec.Name).toBe('s9splunk');
    expect(svc.Spec.TaskTemplate.ContainerSpec.Image).toBe('ndlab/busybox:latest');
  });

  it('a service named like a secret keeps its addresses (keys that are names are not secret keys)', () => {
    const net = {
      Id: 'n1',
      Name: 'ndnet',
      Driver: 'overlay',
      Options: { 'com.docker.network.driver.overlay.vxlanid_list': '4097' },
      Services: { 'api-key': { VIP: '10.0.1.2', Tasks: [{ Name: 'api-key.1.x', EndpointIP: '10.0.1.3' }] } },
    };
    const raw = redactClusterRaw({ info: {}, swarm: {}, nodes: [], networks: [net], services: [], tasks: [] });
    expect(raw.networks).toEqual([net]);
  });
});

describe("the bundle's last scan learns every rule: secrets planted where upstream redaction failed", () => {
  function leakySnapshot(): ClusterSnapshot {
    const { snapshot } = labRun();
    const s = structuredClone(snapshot);
    const c = clusterWithSecrets();
    // As if fetchClusterRaw had not redacted anything.
    (s.cluster.raw.services as unknown[]).push(...c.services);
    (s.cluster.raw.tasks as unknown[]).push(...c.tasks);
    s.cluster.raw.swarm = { ...(s.cluster.raw.swarm as object), Spec: c.swarm.Spec };
    s.cluster.raw.info = { ...(s.cluster.raw.info as object), Swarm: { ...(s.cluster.raw.info as any).Swarm, Cluster: c.info.Swarm.Cluster } };
    // As if the node had sent its texts unfiltered.
    const raw = s.nodes[0]!.raw;
    const section = (stdout: string) => ({ stdout, stderr: '', rc: 0, truncated: false });
    raw['host/docker-log'] = section(`${DEBUG_LINE}\n${UNESCAPED}\n`);
    raw['host/daemon-json'] = section(DAEMON_JSON);
    raw['host/dockerd-cmdline'] = section(
      '/usr/bin/dockerd -H fd:// --log-opt splunk-token=CMDTOKEN1 --log-opt=fluentd-address=tcp://fl:FLUENTPW@fluentd:24224\n',
    );
    raw['host/docker-info'] = section(`${JSON.stringify(c.info)}\n`);
    raw['host/systemd-docker'] = section(
      'ExecStart={ path=/usr/bin/dockerd ; argv[]=/usr/bin/dockerd --log-opt splunk-token=EXECTOKEN ; }\nMountFlags=\n',
    );
    return s;
  }
  const SECRETS = [...API_SECRETS, ...DAEMON_SECRETS, 'CMDTOKEN1', 'FLUENTPW', 'EXECTOKEN'];

  for (const redactIps of [false, true]) {
    it(`no file holds any of them${redactIps ? ' (--redact-ips)' : ''}, and the run is told what was cut`, async () => {
      const snapshot = leakySnapshot();
      const { report } = labRun();
      const b = buildBundle({
        snapshot,
        report,
        log: `collect: nd1 dockerd --log-opt splunk-token=LOGTOKEN\n`,
        argv: ['bundle', '--log-lines', '100'],
        toolVersion: '0.0.0-test',
        startedAt: new Date('2026-11-25T15:12:00Z'),
        endedAt: new Date('2026-11-25T15:12:05Z'),
        redactIps,
        key: KEY,
      });
      const files = await readTarGz(b.data, { maxBytes: 2 ** 30, maxEntries: 10_000 });
      const leaks: string[] = [];
      for (const [path, data] of files)
        for (const s of [...SECRETS, 'LOGTOKEN']) if (data.toString('utf8').includes(s)) leaks.push(`${s} in ${path}`);
      expect(leaks).toEqual([]);
      for (const kind of ['environment values', 'logging-driver options', 'secret-named value', 'URL credentials'])
        expect(b.scrubbed[kind], kind).toBeGreaterThan(0);
      // The analysis is unchanged: the cut values are not what checks read.
      const snap = JSON.parse(files.get('snapshot.json')!.toString()) as ClusterSnapshot;
      if (!redactIps) expect(analyse(snap, {})).toEqual(analyse(snapshot, {}));
    });
  }

  it('a clean bundle is not touched: nothing counted, files byte for byte as rendered', () => {
    const { snapshot, report } = labRun();
    const input = {
      snapshot,
      report,
      log: 'ok\n',
      argv: ['bundle'],
      toolVersion: '0.0.0-test',
      startedAt: new Date(0),
      endedAt: new Date(1000),
      redactIps: false,
      key: KEY,
    };
    const b = buildBundle(input);
    expect(b.scrubbed).toEqual({});
    for (const f of b.files) expect(scrubFile(f.path, f.data)).toBe(f.data);
  });

  // Linear by construction (see secrets.ts); here: each hostile line is read in
  // one pass and cut from its first start, whatever follows. (Speed itself is
  // measured by bench/, never by a timed test.)
  it('a line of 100 000 unterminated Env arrays or log-opts objects is cut from the first one on', () => {
    for (const [unit, kept] of [
      ['"Env":["', '"Env":[<redacted>: rest of line]'],
      ['\\"Env\\":[\\"', '\\"Env\\":[<redacted>: rest of line]'],
      ['"log-opts":{"', '"log-opts":{<redacted>: rest of line}'],
      ['"LogDriver":{"Options":{', '"LogDriver":{"Options":{<redacted>: rest of line}'],
    ] as const) {
      expect(scrubText(`${unit.repeat(100_000)}\nnext line`).text, unit).toBe(`${kept}\nnext line`);
    }
  }, 60_000);
});

describe('--redact-ips: jump hosts', () => {
  it('jump hosts of every node and of --jump become jump-<n>, as whole words, everywhere', async () => {
    const { snapshot, report } = labRun();
    const s = structuredClone(snapshot);
    s.nodes.forEach((n, i) => {
      n.target.via = i === 2 ? ['admin@bastion2.corp.example:2222', 'root@inner-hop:22'] : ['admin@bastion.corp.example:22'];
    });
    const argv = ['bundle', '--jump', 'admin@bastion.corp.example,ops@[fd00::7]:2200', '--node', 'nd2'];
    const log = 'collect: nd3: jump host bastion2.corp.example: connected; inner-hop: ok; bastion is up\n';
    const b = buildBundle({
      snapshot: s,
      report,
      log,
      argv,
      toolVersion: '0.0.0-test',
      startedAt: new Date(0),
      endedAt: new Date(1000),
      redactIps: true,
      key: KEY,
    });
    const files = await readTarGz(b.data, { maxBytes: 2 ** 30, maxEntries: 10_000 });
    const all = [...files].map(([p, d]) => `${p}\n${d.toString('utf8')}`).join('\n');
    for (const name of ['bastion', 'bastion2', 'corp.example', 'inner-hop', 'fd00::7'])
      expect(all, name).not.toMatch(new RegExp(`(?<![A-Za-z0-9_-])${name.replace(/[.:]/g, '\\$&')}(?![A-Za-z0-9_-])`));
    const manifest = JSON.parse(files.get('manifest.json')!.toString());
    expect(manifest.argv).toEqual(['bundle', '--jump', expect.stringMatching(/^admin@jump-1,ops@\[[0-9a-f:]+\]:2200$/), '--node', 'node-2']);
    const snap = JSON.parse(files.get('snapshot.json')!.toString()) as ClusterSnapshot;
    expect(snap.nodes.map((n) => n.target.via)).toEqual([['admin@jump-1:22'], ['admin@jump-1:22'], ['admin@jump-2:2222', 'root@jump-3:22']]);
    expect(files.get('netdoctor.log')!.toString()).toBe('collect: node-3: jump host jump-2: connected; jump-3: ok; jump-1 is up\n');
    // The same findings as without the renaming (jump hosts are in no finding's identity).
    const p = pseudonymiserFor(s, KEY, argv);
    expect(p.host('bastion.corp.example')).toBe('jump-1');
    const back = new Map(snap.cluster.nodes.map((n) => [n.name, s.cluster.nodes.find((o) => o.id === n.id)!.name]));
    const key = (f: { id: string; status: string; node: string | null; peer: string | null; network: string | null }) =>
      [f.id, f.status, f.node && (back.get(f.node) ?? f.node), f.peer && (back.get(f.peer) ?? f.peer), f.network].join(' | ');
    expect(analyse(snap, {}).map(key)).toEqual(report.findings.map(key));
  });

  it('a jump host that is also a swarm node keeps its node pseudonym', () => {
    const { snapshot } = labRun();
    const p = pseudonymiserFor(snapshot, KEY, ['--jump=root@nd1']);
    expect(p.text('via nd1')).toBe('via node-1');
  });
});

describe('the node-side sed: secret-named keys without the JavaScript bound', () => {
  const sed = (text: string) => spawnSync('sh', ['-c', REDACT_LOG], { input: text, encoding: 'utf8' }).stdout;

  it('cuts what the bundle scan cuts, and a name longer than its bound too', () => {
    const line = `{"Name":"nd1","Labels":{"com.example.deploy-token":"tok-1234","team":"ops"},"HttpProxy":"http://u:pw@proxy:3128","ServerKey":"abc"}`;
    expect(sed(`${line}\n`)).toBe(`${scrubText(line).text}\n`);
    const long = `{"${'a'.repeat(80)}_token":"s3cr3t","keep":"me"}`;
    expect(sed(`${long}\n`)).toBe(`{"${'a'.repeat(80)}_token":"<redacted>","keep":"me"}\n`);
    expect(REDACT_LOG).not.toContain('{0,60}');
  });
});
