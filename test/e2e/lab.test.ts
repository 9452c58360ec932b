// The lab is real: an N-node Docker Swarm in namespaces, with a converged
// service, VXLAN between nodes, sshd on every node and nsenter access.
// Needs root; brought up by test/e2e/global-setup.ts.
import { beforeAll, describe, it, expect } from 'vitest';
import { labDefaultEngine, labDown, labEnsure, labNode, labScript, nodeExec, run, sshArgs, type LabNode, type LabState } from '../lab/lab.js';

const DOCKER = process.env.ND_LAB_DOCKER ?? '/usr/local/bin/docker';

async function docker(node: LabNode, args: string[]): Promise<string> {
  const r = await run(DOCKER, ['--host', `unix://${node.dockerSocket}`, ...args], { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`docker ${args.join(' ')} on ${node.name} failed (exit ${r.code}): ${r.stderr}`);
  return r.stdout;
}

function jsonLines<T>(text: string): T[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);
}

interface NodeLsRow {
  Hostname: string;
  Status: string;
  Availability: string;
  ManagerStatus: string;
}

interface TaskRow {
  Name: string;
  Node: string;
  CurrentState: string;
  DesiredState: string;
}

interface VerboseNetwork {
  Id: string;
  Peers?: { Name: string; IP: string }[];
  Services?: Record<string, { VIP: string; Tasks: { Name: string; EndpointIP: string; Info: Record<string, string> }[] }>;
}

const expectedNodes = Number(process.env.ND_LAB_NODES || 3);

function manager(state: LabState): LabNode {
  const m = state.nodes.find((n) => n.role === 'manager');
  if (!m) throw new Error('lab has no manager');
  return m;
}

describe('lab', () => {
  let state: LabState;

  // Earlier test files inject faults (stopped daemons, cut links, MTUs whose
  // path MTU the kernel caches) and undo them: what this file shows is that a
  // lab brought up works, so it brings one up.
  beforeAll(async () => {
    if (process.env.ND_LAB_REUSE !== '1') await labDown();
    state = await labEnsure(expectedNodes);
  }, 300_000);

  it('describes its nodes in lab.json', () => {
    expect(state.nodes).toHaveLength(expectedNodes);
    state.nodes.forEach((n, i) => {
      expect(n.name).toBe(`nd${i + 1}`);
      expect(n.ip).toBe(`10.213.0.${11 + i}`);
      expect(n.role).toBe(i === 0 ? 'manager' : 'worker');
      expect(n.pid).toBeGreaterThan(1);
    });
    expect(state).toMatchObject({ bridge: 'ndlab0', subnet: '10.213.0.0/24', network: 'ndnet', service: 'web', user: 'root' });
  });

  it('runs the engine asked for (ND_LAB_ENGINE, default 26), as each dockerd reports it', async () => {
    const engine = labDefaultEngine();
    expect(state.engine).toBe(engine);
    for (const n of state.nodes) {
      const want = engine === '20.10' || (engine === 'mixed' && n.role === 'worker') ? /^20\.10\./ : /^26\.1\./;
      expect(n.engine, n.name).toMatch(want);
      expect((await docker(n, ['version', '--format', '{{.Server.Version}}'])).trim()).toBe(n.engine);
    }
  });

  it('says in one line when the Docker 26 tree is missing, before touching anything', async () => {
    const r = await run('bash', [labScript, 'up', '3', '--engine', '26'], {
      env: { ...process.env, ND_LAB_DOCKER26: '/nonexistent/docker-26' },
      timeoutMs: 30_000,
    });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([
      'ndlab: error: engine 26 needs Docker 26 in /nonexistent/docker-26, which is missing (run scripts/install-deps.sh as root, or use --engine 20.10)',
    ]);
  });

  it('has every node Ready in the swarm', async () => {
    const rows = jsonLines<NodeLsRow>(await docker(manager(state), ['node', 'ls', '--format', '{{json .}}']));
    expect(rows.map((r) => r.Hostname).sort()).toEqual(state.nodes.map((n) => n.name).sort());
    for (const r of rows) {
      expect(r.Status).toBe('Ready');
      expect(r.Availability).toBe('Active');
    }
    expect(rows.find((r) => r.Hostname === 'nd1')?.ManagerStatus).toBe('Leader');
    // Every node runs its own engine (distinct engine IDs).
    const ids = await Promise.all(state.nodes.map((n) => docker(n, ['info', '--format', '{{.ID}} {{.Name}}'])));
    expect(new Set(ids.map((s) => s.trim().split(' ')[0])).size).toBe(state.nodes.length);
    ids.forEach((s, i) => expect(s.trim().split(' ')[1]).toBe(state.nodes[i]?.name));
  });

  it('has the service converged with tasks on several nodes', async () => {
    const tasks = jsonLines<TaskRow>(
      await docker(manager(state), ['service', 'ps', state.service, '--filter', 'desired-state=running', '--format', '{{json .}}']),
    );
    expect(tasks).toHaveLength(state.nodes.length);
    for (const t of tasks) expect(t.CurrentState).toMatch(/^Running/);
    expect(new Set(tasks.map((t) => t.Node)).size).toBeGreaterThanOrEqual(Math.min(2, state.nodes.length));
  });

  it.skipIf(expectedNodes < 2)('carries task-to-task traffic across nodes over VXLAN', async () => {
    const src = labNode('nd2', state);
    const dst = labNode(state.nodes.length >= 3 ? 'nd3' : 'nd1', state);
    const [net] = JSON.parse(await docker(manager(state), ['network', 'inspect', '--verbose', state.network])) as VerboseNetwork[];
    expect(net).toBeDefined();
    if (!net) return;
    expect((net.Peers ?? []).map((p) => p.IP).sort()).toEqual(state.nodes.map((n) => n.ip).sort());
    const tasks = net.Services?.[state.service]?.Tasks ?? [];
    const target = tasks.find((t) => t.Info['Host IP'] === dst.ip);
    expect(target, `a ${state.service} task on ${dst.name}`).toBeDefined();
    if (!target) return;

    const ids = (await docker(src, ['ps', '-q', '--filter', `label=com.docker.swarm.service.name=${state.service}`]))
      .split('\n')
      .filter((s) => s.trim() !== '');
    const container = ids[0];
    expect(container, `a ${state.service} container on ${src.name}`).toBeDefined();
    if (!container) return;
    // After files that cut gossip or move tasks, the overlay may take seconds to converge: ask again for up to 30 s.
    const pingOnce = () =>
      run(DOCKER, ['--host', `unix://${src.dockerSocket}`, 'exec', container, 'ping', '-c', '3', '-W', '2', target.EndpointIP], {
        timeoutMs: 30_000,
      });
    let ping = await pingOnce();
    for (let i = 0; i < 5 && ping.code !== 0; i++) ping = await pingOnce();
    expect(ping.code, ping.stdout + ping.stderr).toBe(0);
    expect(ping.stdout).toMatch(/[1-9]\d* packets received/);

    // The source node's overlay sandbox has the real VXLAN device and an FDB
    // entry sending the target task's MAC to the target node.
    const sandbox = `/var/run/docker/netns/1-${net.Id.slice(0, 10)}`;
    const fdb = await nodeExec(src.name, `nsenter --net=${sandbox} bridge fdb show dev vxlan0; nsenter --net=${sandbox} ip -d link show vxlan0`);
    expect(fdb.code, fdb.stderr).toBe(0);
    expect(fdb.stdout).toContain(`dst ${dst.ip}`);
    expect(fdb.stdout).toMatch(/vxlan id \d+ .*dstport 4789/s);
  });

  it('accepts SSH with the lab key and strict known_hosts on every node', async () => {
    for (const n of state.nodes) {
      const r = await run('ssh', [...sshArgs(n.name, state), 'hostname'], { timeoutMs: 30_000 });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trim()).toBe(n.name);
    }
    // Exactly the spec'd options work too.
    const n = state.nodes[0];
    if (!n) return;
    const r = await run(
      'ssh',
      [
        '-i',
        state.sshKey,
        '-o',
        `UserKnownHostsFile=${state.knownHosts}`,
        '-o',
        'StrictHostKeyChecking=yes',
        '-o',
        'BatchMode=yes',
        `root@${n.ip}`,
        'hostname; docker info --format "{{.Name}} {{.Swarm.LocalNodeState}}"',
      ],
      { timeoutMs: 30_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n').slice(0, 2)).toEqual([n.name, `${n.name} active`]);
  });

  it("reaches a node's namespaces with nodeExec", async () => {
    for (const n of state.nodes) {
      const r = await nodeExec(n.name, 'hostname; cat /proc/1/comm; ip -j addr show dev eth0; test -S /var/run/docker.sock && echo sock');
      expect(r.code, r.stderr).toBe(0);
      const [host, comm, addrJson, sock] = r.stdout.split('\n');
      expect(host).toBe(n.name);
      expect(comm).toBe('docker-init');
      const addrs = JSON.parse(addrJson ?? '[]') as { addr_info: { local: string; prefixlen: number }[] }[];
      expect(addrs[0]?.addr_info.some((a) => a.local === n.ip && a.prefixlen === 24)).toBe(true);
      expect(sock).toBe('sock');
    }
    const nd1 = state.nodes[0]?.name ?? 'nd1';
    expect((await nodeExec(nd1, 'exit 3')).code).toBe(3);
    expect((await nodeExec(nd1, 'cat', { input: 'hello lab' })).stdout).toBe('hello lab');
    // No default route: lab traffic cannot leave the namespaces.
    expect((await nodeExec(nd1, 'ip route show default')).stdout.trim()).toBe('');
  });
});
