/**
 * `gate` against the real lab swarm, then the real `docker stack deploy` of
 * the same file: a stack that gates 0 deploys and its tasks on two nodes
 * reach each other over its overlay; each no-go stack gates 1 with the right
 * check, service or network and file:line, and, deployed anyway, really
 * fails (docker's own error, tasks pending with "no suitable node", or no
 * traffic). Every stack deployed here is removed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labDown, labUp, nodeDocker, nodeExec, type LabState } from '../lab/lab.js';
import type { Finding } from '../../src/checks/types.js';
import type { Report } from '../../src/report/model.js';
import { BIN, expectOneLineError, run, type RunResult } from './support/cli.js';
import { check, managerHost, nd } from './support/netdoctor.js';
import { stackFile } from '../support/stack-fixtures.js';
import { traceLoads } from '../support/load-trace.js';

let lab: LabState;
const deployed: string[] = [];
const ip = (node: string) => lab.nodes.find((n) => n.name === node)!.ip;

beforeAll(async () => {
  if (process.env.ND_LAB_REUSE !== '1') await labDown();
  lab = await labUp();
});

afterAll(async () => {
  for (const s of deployed) await dk(['stack', 'rm', s]);
  // stack rm is asynchronous: wait until its networks are gone so the lab is left as found.
  await until(
    async () => (await dk(['network', 'ls', '--format', '{{.Name}}'])).stdout.split('\n').every((n) => !deployed.some((s) => n.startsWith(`${s}_`))),
    60,
  );
});

/** The host's docker CLI against the lab manager. */
const dk = (args: string[]): Promise<RunResult> =>
  run('/usr/local/bin/docker', ['-H', managerHost(lab), ...args], { DOCKER_HOST: '', DOCKER_CONTEXT: '' }, 60_000);

async function until<T>(fn: () => Promise<T | false | null | undefined>, seconds: number): Promise<T | null> {
  const end = Date.now() + seconds * 1000;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) return null;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

async function gate(files: string[], stack: string, extra: string[] = []): Promise<{ r: RunResult; report: Report }> {
  const r = await nd(['gate', ...files.flatMap((f) => ['-c', stackFile(f)]), '--stack', stack, '--format', 'json', ...extra]);
  if (r.code !== 0 && r.code !== 1) throw new Error(`gate exited ${r.code}: ${r.stderr}`);
  return { r, report: JSON.parse(r.stdout) as Report };
}

async function deploy(file: string, stack: string): Promise<RunResult> {
  deployed.push(stack);
  return dk(['stack', 'deploy', '--resolve-image', 'never', '-c', stackFile(file), stack]);
}

interface Task {
  node: string;
  state: string;
  error: string;
}
async function tasks(service: string): Promise<Task[]> {
  const r = await dk(['service', 'ps', '--no-trunc', '--format', '{{.Node}}|{{.CurrentState}}|{{.Error}}', service]);
  return r.stdout
    .split('\n')
    .filter((l) => l.includes('|'))
    .map((l) => {
      const [node = '', state = '', error = ''] = l.split('|');
      return { node, state, error };
    });
}

/** The task container of a service on a node, and its address on a network. */
async function taskOn(node: string, service: string, network: string): Promise<{ id: string; ip: string }> {
  const id = (await nodeDocker(node, ['ps', '-q', '--filter', `label=com.docker.swarm.service.name=${service}`])).stdout.trim().split('\n')[0]!;
  const addr = await nodeDocker(node, ['inspect', '-f', `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`, id]);
  return { id, ip: addr.stdout.trim() };
}

/** Waits for two running tasks on two nodes; pings from the first to the second over the network. */
async function pingAcross(service: string, network: string): Promise<{ from: string; to: string; code: number; out: string }> {
  const running = await until(async () => {
    const ts = (await tasks(service)).filter((t) => t.state.startsWith('Running'));
    return new Set(ts.map((t) => t.node)).size >= 2 ? ts : null;
  }, 60);
  expect(running, JSON.stringify(await tasks(service))).not.toBeNull();
  const [a, b] = [...new Set(running!.map((t) => t.node))] as [string, string];
  const src = await taskOn(a, service, network);
  const dst = await taskOn(b, service, network);
  expect(dst.ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
  const r = await nodeDocker(a, ['exec', src.id, 'ping', '-c', '2', '-W', '2', dst.ip]);
  return { from: a, to: b, code: r.code, out: r.stdout + r.stderr };
}

const blocking = (r: Report) => r.findings.filter((f) => f.status === 'fail' || f.status === 'error');
const show = (r: Report) =>
  blocking(r)
    .map((f) => `${f.id} ${f.node ?? '-'}→${f.peer ?? '-'} ${f.network ?? '-'} ${f.service ?? '-'}: ${f.detail}`)
    .join('\n');
const one = (r: Report, id: string): Finding => {
  const f = blocking(r).find((x) => x.id === id);
  expect(f, show(r)).toBeDefined();
  return f!;
};

describe('a stack that gates 0', () => {
  it('dnsrr on a fresh overlay, nothing published: go on this IPVS-less lab, then deployed, its tasks on two nodes talk', async () => {
    const { r, report } = await gate(['go'], 'ndgo');
    expect(r.code, show(report)).toBe(0);
    expect(report.stack).toEqual({ name: 'ndgo', files: [stackFile('go')] });
    // What the lab lacks is reported, and says why it does not block.
    expect(report.findings.some((f) => f.id === 'service.ingress.ipvs-available' && f.status === 'warn' && f.detail.includes('does not block'))).toBe(
      true,
    );
    // The live gate asks the nodes nothing about networks the stack does not join: no overlay ping
    // (ndnet, ingress) and no embedded-DNS lookup (ndnet), where check, on the same lab, does both.
    const active = (r: Report) =>
      r.findings
        .filter((f) => (f.id.startsWith('overlay.datapath.') || f.id === 'service.dns.records') && f.network !== null)
        .map((f) => `${f.id} ${f.network}`);
    expect(active(report)).toEqual([]);
    expect(report.findings.filter((f) => f.id.startsWith('overlay.datapath.')).map((f) => `${f.id} ${f.status} ${f.messageId}`)).toEqual([
      'overlay.datapath.reachable skip notJoined',
      'overlay.datapath.mtu skip notJoined',
    ]);
    const full = await check();
    expect(new Set(active(full.report))).toEqual(
      new Set([
        'overlay.datapath.reachable ndnet',
        'overlay.datapath.reachable ingress',
        'overlay.datapath.mtu ndnet',
        'overlay.datapath.mtu ingress',
        'service.dns.records ndnet',
      ]),
    );
    // What it still reads whole: ndnet's sandboxes (FDB) and NetworkDB views, reported as not blocking.
    expect(report.findings.some((f) => f.id === 'overlay.fdb.missing' && f.network === 'ndnet')).toBe(true);
    expect(report.findings.some((f) => f.id === 'overlay.networkdb.views' && f.network === 'ndnet')).toBe(true);
    expect((await deploy('go', 'ndgo')).code).toBe(0);
    const p = await pingAcross('ndgo_app', 'ndgo_back');
    expect(p.code, p.out).toBe(0);
  });
});

describe('external networks of other drivers', () => {
  it('a swarm-scoped bridge (docker network create --scope swarm -d bridge): not blocked; deployed, its task runs', async () => {
    expect((await dk(['network', 'create', '--scope', 'swarm', '-d', 'bridge', 'nd-swarm-br'])).code).toBe(0);
    try {
      const { r, report } = await gate(['external-swarm'], 'ndswb', ['--no-live']);
      expect(r.code, show(report)).toBe(0);
      expect(report.findings.find((f) => f.id === 'stack.network.external')).toMatchObject({ status: 'pass', network: 'nd-swarm-br' });
      expect((await deploy('external-swarm', 'ndswb')).code).toBe(0);
      const running = await until(async () => (await tasks('ndswb_app')).some((t) => t.state.startsWith('Running')), 60);
      expect(running, JSON.stringify(await tasks('ndswb_app'))).toBe(true);
    } finally {
      await dk(['stack', 'rm', 'ndswb']);
      // The network is free once the stack's task is gone.
      await until(async () => (await dk(['network', 'rm', 'nd-swarm-br'])).code === 0 || null, 60);
    }
  });
});

describe('external networks made --config-from', () => {
  it('a swarm-scoped macvlan from a config-only network on the manager alone: a warning, not a block; deployed off the manager, swarm rejects the task in the words the warning quotes', async () => {
    expect((await dk(['network', 'create', '--config-only', '--subnet', '192.168.77.0/24', 'nd-mv-conf'])).code).toBe(0);
    try {
      expect((await dk(['network', 'create', '-d', 'macvlan', '--scope', 'swarm', '--config-from', 'nd-mv-conf', 'nd-swarm-mv'])).code).toBe(0);
      const { r, report } = await gate(['external-macvlan'], 'ndmv', ['--no-live']);
      expect(r.code, show(report)).toBe(0);
      const f = report.findings.find((x) => x.id === 'stack.network.external')!;
      expect(f).toMatchObject({ status: 'warn', network: 'nd-swarm-mv', location: { file: stackFile('external-macvlan'), line: 13 } });
      const words = 'configuration network "nd-mv-conf" does not exist';
      expect(f.detail).toContain(words);
      expect((await deploy('external-macvlan', 'ndmv')).code).toBe(0);
      const rejected = await until(async () => (await tasks('ndmv_app')).find((t) => t.state.startsWith('Rejected') && t.error.includes(words)), 60);
      expect(rejected, JSON.stringify(await tasks('ndmv_app'))).toBeTruthy();
      expect(rejected!.node).not.toBe('nd1');
    } finally {
      await dk(['stack', 'rm', 'ndmv']);
      await until(async () => (await dk(['network', 'rm', 'nd-swarm-mv'])).code === 0 || null, 60);
      await dk(['network', 'rm', 'nd-mv-conf']);
    }
  });
});

describe('gate --no-live against the real manager loads neither ssh2 nor listr2', () => {
  it('json: a whole plan, and the load trace has neither', () => {
    const t = traceLoads([BIN, '-H', managerHost(lab), 'gate', '--no-live', '-c', stackFile('go'), '--stack', 'ndlazy', '--format', 'json'], {
      DOCKER_HOST: '',
      DOCKER_CONTEXT: '',
      NO_COLOR: '1',
      GITHUB_ACTIONS: '',
    });
    // Go or no-go (the file's earlier deploys hold go.yml's subnet): either way a whole plan, in JSON.
    expect([0, 1], t.stderr).toContain(t.code);
    expect((JSON.parse(t.stdout) as Report).stack?.name).toBe('ndlazy');
    expect(t.files.some((f) => f.endsWith('/dist/cli/commands/gate.js'))).toBe(true);
    expect(t.ssh2).toBe(false);
    expect(t.listr2).toBe(false);
  });
});

describe('no-go stacks, gated then deployed anyway', () => {
  it('a subnet overlapping the underlay: stack.network.subnet on the network, at its ipam line', async () => {
    const { r, report } = await gate(['subnet-underlay'], 'ndsub');
    expect(r.code).toBe(1);
    expect(one(report, 'stack.network.subnet')).toMatchObject({ network: 'ndsub_back', location: { file: stackFile('subnet-underlay'), line: 12 } });
    // --no-live sees it too, from the nodes' advertise addresses.
    const nl = await gate(['subnet-underlay'], 'ndsub', ['--no-live']);
    expect(nl.r.code).toBe(1);
    one(nl.report, 'stack.network.subnet');
    // Deployed: a task can no longer reach another node's underlay address (the overlay route wins).
    expect((await deploy('subnet-underlay', 'ndsub')).code).toBe(0);
    const running = await until(async () => (await tasks('ndsub_app')).find((t) => t.state.startsWith('Running')), 60);
    expect(running).not.toBeNull();
    const peer = lab.nodes.find((n) => n.name !== running!.node)!;
    const t = await taskOn(running!.node, 'ndsub_app', 'ndsub_back');
    const ping = await nodeDocker(running!.node, ['exec', t.id, 'ping', '-c', '2', '-W', '2', peer.ip]);
    expect(ping.code, ping.stdout).not.toBe(0);
  });

  it("a port already published by the lab's web: stack.ports.conflict on the service, at its ports line; deploy fails", async () => {
    const { r, report } = await gate(['port-web'], 'ndweb', ['--no-live']);
    expect(r.code).toBe(1);
    expect(one(report, 'stack.ports.conflict')).toMatchObject({
      service: 'ndweb_app',
      messageId: 'ingressTaken',
      location: { file: stackFile('port-web'), line: 6 },
    });
    const d = await deploy('port-web', 'ndweb');
    expect(d.code).not.toBe(0);
    expect(d.stderr).toMatch(/already in use|port.*8080/i);
  });

  it('a host-mode port in use on the nodes: stack.ports.conflict (listening); the tasks fail to bind', async () => {
    const { r, report } = await gate(['host-port'], 'ndhost');
    expect(r.code).toBe(1);
    expect(one(report, 'stack.ports.conflict')).toMatchObject({
      service: 'ndhost_app',
      messageId: 'listening',
      location: { file: stackFile('host-port'), line: 8 },
    });
    expect((await deploy('host-port', 'ndhost')).code).toBe(0);
    const failed = await until(async () => (await tasks('ndhost_app')).find((t) => /address already in use/i.test(t.error)), 60);
    expect(failed, JSON.stringify(await tasks('ndhost_app'))).not.toBeNull();
  });

  it('a constraint no node satisfies: stack.placement.feasible; the task stays pending, "no suitable node"', async () => {
    const { r, report } = await gate(['constraint'], 'ndcon', ['--no-live']);
    expect(r.code).toBe(1);
    expect(one(report, 'stack.placement.feasible')).toMatchObject({
      service: 'ndcon_app',
      messageId: 'nowhere',
      location: { file: stackFile('constraint'), line: 9 },
    });
    expect((await deploy('constraint', 'ndcon')).code).toBe(0);
    const pending = await until(
      async () => (await tasks('ndcon_app')).find((t) => t.state.startsWith('Pending') && /no suitable node/.test(t.error)),
      30,
    );
    expect(pending, JSON.stringify(await tasks('ndcon_app'))).not.toBeNull();
  });

  it('replicas beyond max_replicas_per_node × nodes: one stays pending, "no suitable node"', async () => {
    const { r, report } = await gate(['max-replicas'], 'ndmax', ['--no-live']);
    expect(r.code).toBe(1);
    expect(one(report, 'stack.placement.feasible')).toMatchObject({
      service: 'ndmax_app',
      messageId: 'tooFew',
      location: { file: stackFile('max-replicas'), line: 8 },
    });
    expect((await deploy('max-replicas', 'ndmax')).code).toBe(0);
    const seen = await until(async () => {
      const ts = await tasks('ndmax_app');
      return ts.filter((t) => t.state.startsWith('Running')).length === 3 &&
        ts.some((t) => t.state.startsWith('Pending') && /no suitable node/.test(t.error))
        ? ts
        : null;
    }, 60);
    expect(seen, JSON.stringify(await tasks('ndmax_app'))).not.toBeNull();
  });

  it('an encrypted network on this XFRM-less kernel: stack.network.encrypted; deployed, its tasks cannot talk', async () => {
    const { r, report } = await gate(['encrypted'], 'ndenc');
    expect(r.code).toBe(1);
    expect(one(report, 'stack.network.encrypted')).toMatchObject({ network: 'ndenc_secret', location: { file: stackFile('encrypted'), line: 15 } });
    const d = await deploy('encrypted', 'ndenc');
    if (d.code === 0) {
      const p = await pingAcross('ndenc_app', 'ndenc_secret');
      expect(p.code, p.out).not.toBe(0);
    } else expect(d.stderr).not.toBe('');
  });

  it('an ingress-published port on this IPVS-less lab: stack.ports.mesh; deployed, the port does not answer', async () => {
    const { r, report } = await gate(['ingress'], 'ndmesh');
    expect(r.code).toBe(1);
    expect(one(report, 'stack.ports.mesh')).toMatchObject({
      service: 'ndmesh_app',
      messageId: 'noMesh',
      location: { file: stackFile('ingress'), line: 6 },
    });
    expect((await deploy('ingress', 'ndmesh')).code).toBe(0);
    await until(async () => (await tasks('ndmesh_app')).find((t) => t.state.startsWith('Running')), 60);
    const probe = await nodeExec(
      'nd2',
      `timeout 5 bash -c 'exec 3<>/dev/tcp/${ip('nd2')}/9090 && printf "GET / HTTP/1.0\\r\\n\\r\\n" >&3 && head -c 12 <&3'`,
    );
    expect(probe.stdout).not.toMatch(/^HTTP/);
  });

  it('an MTU option above the underlay MTU: stack.network.mtu at the option; deployed, full-size DF packets do not cross', async () => {
    const { r, report } = await gate(['mtu'], 'ndmtu');
    expect(r.code, show(report)).toBe(1);
    expect(one(report, 'stack.network.mtu')).toMatchObject({
      network: 'ndmtu_jumbo',
      messageId: 'tooLarge',
      location: { file: stackFile('mtu'), line: 18 },
    });
    expect((await deploy('mtu', 'ndmtu')).code).toBe(0);
    const running = await until(async () => {
      const ts = (await tasks('ndmtu_app')).filter((t) => t.state.startsWith('Running'));
      return new Set(ts.map((t) => t.node)).size >= 2 ? ts : null;
    }, 60);
    expect(running, JSON.stringify(await tasks('ndmtu_app'))).not.toBeNull();
    const [a, b] = [...new Set(running!.map((t) => t.node))] as [string, string];
    const src = await taskOn(a, 'ndmtu_app', 'ndmtu_jumbo');
    const dst = await taskOn(b, 'ndmtu_app', 'ndmtu_jumbo');
    const pid = (await nodeDocker(a, ['inspect', '-f', '{{.State.Pid}}', src.id])).stdout.trim();
    expect(pid).toMatch(/^\d+$/);
    // In the task's network namespace, with the node's iputils ping (busybox ping cannot set DF).
    const inTask = (cmd: string) => nodeExec(a, `nsenter -t ${pid} -n ${cmd}`);
    // dockerd gave the task the option − 50 (moby's maxMTU): 1500, so its VXLAN datagrams are 1550 bytes.
    const link = await inTask(`ip -o addr show to ${src.ip}`);
    const dev = /^\d+: (\S+)/.exec(link.stdout)?.[1];
    expect((await inTask(`ip -o link show ${dev}`)).stdout).toMatch(/ mtu 1500 /);
    // 1400-byte packets cross; a full-size 1500-byte packet with DF does not (1550 on a 1500-byte underlay).
    const small = await inTask(`ping -n -c 2 -W 2 -M do -s 1372 ${dst.ip}`);
    expect(small.code, small.stdout + small.stderr).toBe(0);
    const full = await inTask(`ping -n -c 2 -W 2 -M do -s 1472 ${dst.ip}`);
    expect(full.code, full.stdout + full.stderr).not.toBe(0);
  });

  it('a missing external network: stack.network.external; deploy fails', async () => {
    const { r, report } = await gate(['external'], 'ndext', ['--no-live']);
    expect(r.code).toBe(1);
    expect(one(report, 'stack.network.external')).toMatchObject({ network: 'nd-missing-net', location: { file: stackFile('external'), line: 10 } });
    const d = await deploy('external', 'ndext');
    expect(d.code).not.toBe(0);
    expect(d.stderr).toMatch(/nd-missing-net/);
  });

  it("an external network that is a local bridge on the manager: stack.network.external in docker's words; deploy fails with them", async () => {
    expect((await dk(['network', 'create', '-d', 'bridge', 'nd-local-br'])).code).toBe(0);
    try {
      const { r, report } = await gate(['external-local'], 'ndloc', ['--no-live']);
      expect(r.code, show(report)).toBe(1);
      const f = one(report, 'stack.network.external');
      expect(f).toMatchObject({ network: 'nd-local-br', location: { file: stackFile('external-local'), line: 10 } });
      const words = 'network "nd-local-br" is declared as external, but it is not in the right scope: "local" instead of "swarm"';
      expect(f.detail).toContain(words);
      const d = await deploy('external-local', 'ndloc');
      expect(d.code).not.toBe(0);
      expect(d.stderr).toContain(words);
    } finally {
      await dk(['network', 'rm', 'nd-local-br']);
    }
  });

  it('udp/4789 dropped between the two candidate nodes (live): no-go; deployed, the tasks cannot talk', async () => {
    const rule = `INPUT -p udp --dport 4789 -s ${ip('nd2')} -j DROP`;
    expect((await nodeExec('nd3', `iptables -I ${rule}`)).code).toBe(0);
    try {
      const { r, report } = await gate(['workers'], 'ndvx');
      expect(r.code, show(report)).toBe(1);
      expect(
        blocking(report).some((f) => f.id === 'underlay.datapath.udp' && [f.node, f.peer].sort().join() === 'nd2,nd3'),
        show(report),
      ).toBe(true);
      // The same stack with --no-live cannot see it: the plan alone is go.
      expect((await gate(['workers'], 'ndvx', ['--no-live'])).r.code).toBe(0);
      expect((await deploy('workers', 'ndvx')).code).toBe(0);
      const p = await pingAcross('ndvx_app', 'ndvx_back');
      expect(p.code, p.out).not.toBe(0);
    } finally {
      await nodeExec('nd3', `iptables -D ${rule}`);
    }
  });
});

describe('malformed stack files: exit 2, one line naming the file', () => {
  for (const [what, file] of [
    ['YAML syntax', 'bad-syntax'],
    ['an unknown top-level key', 'bad-key'],
    ['a required variable unset', 'bad-interp'],
    ['a missing file', 'no-such-file'],
  ] as const) {
    it(what, async () => {
      // ${X?err} fails only when X is unset (an empty value is a value): the test environment has no ND_GATE_TAG.
      expect(Object.hasOwn(process.env, 'ND_GATE_TAG')).toBe(false);
      const r = await nd(['gate', '-c', stackFile(file), '--stack', 'ndbad']);
      expect(r.code, r.stderr).toBe(2);
      expect(expectOneLineError(r)).toContain(`${file}.yml`);
    });
  }
});
