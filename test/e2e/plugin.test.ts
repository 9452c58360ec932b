/**
 * The real docker CLI loading our plugin, against the real lab swarm.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync, mkdirSync, lstatSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { labEnsure, standaloneDown, standaloneUp, type LabState } from '../lab/lab.js';
import { BIN, ROOT, docker, expectOneLineError, pluginConfigDir, run } from './support/cli.js';

const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version as string;

let lab: LabState;
let cfg: { dir: string; cleanup: () => void };
let manager: string;
let worker: string;

beforeAll(async () => {
  lab = await labEnsure();
  cfg = await pluginConfigDir();
  manager = `unix://${lab.nodes.find((n) => n.role === 'manager')!.dockerSocket}`;
  worker = `unix://${lab.nodes.find((n) => n.role === 'worker')!.dockerSocket}`;
});
afterAll(() => cfg?.cleanup());

describe('plugin protocol with the real docker CLI', () => {
  it('plugin install linked the executable into cli-plugins', () => {
    const link = join(cfg.dir, 'cli-plugins', 'docker-netdoctor');
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe(BIN);
  });

  it('answers the metadata query with our vendor and version', async () => {
    const r = await run(BIN, ['docker-cli-plugin-metadata']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ SchemaVersion: '0.1.0', Vendor: 'docker netdoctor', Version: version });
  });

  it('docker info lists netdoctor with our vendor and version', async () => {
    const r = await docker(cfg.dir, ['--host', manager, 'info', '--format', '{{json .ClientInfo.Plugins}}']);
    expect(r.code, r.stderr).toBe(0);
    const plugins = JSON.parse(r.stdout) as { Name: string; Vendor: string; Version: string; Path: string }[];
    const nd = plugins.find((p) => p.Name === 'netdoctor');
    expect(nd).toMatchObject({ Vendor: 'docker netdoctor', Version: version });
  });

  it.each([[['netdoctor', '--help']], [['help', 'netdoctor']]])('docker %j shows our help with exit codes', async (args) => {
    const r = await docker(cfg.dir, args);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('docker netdoctor');
    expect(r.stdout).toContain('nodes');
    expect(r.stdout).toContain('EXIT CODES');
  });

  it('docker netdoctor nodes --help documents the command', async () => {
    const r = await docker(cfg.dir, ['netdoctor', 'nodes', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/USAGE\s+\$ docker netdoctor nodes/);
    expect(r.stdout).toContain('--json');
  });
});

describe('docker netdoctor nodes against the lab', () => {
  const expectLabNodes = (stdout: string) => {
    const nodes = JSON.parse(stdout) as {
      name: string;
      role: string;
      advertiseAddress: string;
      sshAddress: string;
      leader: boolean;
      state: string;
    }[];
    expect(nodes.map((n) => n.name).sort()).toEqual(lab.nodes.map((n) => n.name).sort());
    for (const ln of lab.nodes) {
      const n = nodes.find((x) => x.name === ln.name)!;
      expect(n.role).toBe(ln.role);
      expect(n.advertiseAddress).toBe(ln.ip);
      expect(n.sshAddress).toBe(ln.ip);
      expect(n.state).toBe('ready');
    }
    expect(nodes.filter((n) => n.leader).map((n) => n.name)).toEqual([lab.nodes.find((n) => n.role === 'manager')!.name]);
  };

  it('with --host', async () => {
    const r = await docker(cfg.dir, ['--host', manager, 'netdoctor', 'nodes', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expectLabNodes(r.stdout);
  });

  it('with DOCKER_HOST, as a table', async () => {
    const r = await docker(cfg.dir, ['netdoctor', 'nodes'], { DOCKER_HOST: manager });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/^NAME\s+ID\s+ROLE\s+MANAGER STATUS/);
    for (const n of lab.nodes) expect(r.stdout).toMatch(new RegExp(`^${n.name}\\s.*${n.ip.replace(/\./g, '\\.')}`, 'm'));
  });

  it('through a unix context selected by --context and by DOCKER_CONTEXT', async () => {
    const c = await docker(cfg.dir, ['context', 'create', 'labunix', '--docker', `host=${manager}`]);
    expect(c.code, c.stderr).toBe(0);
    const byFlag = await docker(cfg.dir, ['--context', 'labunix', 'netdoctor', 'nodes', '--json']);
    expect(byFlag.code, byFlag.stderr).toBe(0);
    expectLabNodes(byFlag.stdout);
    const byEnv = await docker(cfg.dir, ['netdoctor', 'nodes', '--json'], { DOCKER_CONTEXT: 'labunix' });
    expect(byEnv.code, byEnv.stderr).toBe(0);
    expectLabNodes(byEnv.stdout);
    // --context wins over DOCKER_HOST pointing at a worker, as in docker.
    const over = await docker(cfg.dir, ['--context', 'labunix', 'netdoctor', 'nodes', '--json'], { DOCKER_HOST: worker });
    expect(over.code, over.stderr).toBe(0);
  });

  it('through an ssh:// context (dockerode runs docker system dial-stdio on the manager; lab key in an agent)', async () => {
    const mgr = lab.nodes.find((n) => n.role === 'manager')!;
    const agentDir = join(cfg.dir, 'agent');
    mkdirSync(agentDir);
    const sock = join(agentDir, 'sock');
    const a = await run('ssh-agent', ['-a', sock]);
    expect(a.code, a.stderr).toBe(0);
    const pid = /SSH_AGENT_PID=(\d+)/.exec(a.stdout)?.[1];
    try {
      const add = await run('ssh-add', [lab.sshKey], { SSH_AUTH_SOCK: sock });
      expect(add.code, add.stderr).toBe(0);
      const c = await docker(cfg.dir, ['context', 'create', 'labssh', '--docker', `host=ssh://root@${mgr.ip}`]);
      expect(c.code, c.stderr).toBe(0);
      const r = await docker(cfg.dir, ['--context', 'labssh', 'netdoctor', 'nodes', '--json'], {
        SSH_AUTH_SOCK: sock,
        NETDOCTOR_SSH_KNOWN_HOSTS: lab.knownHosts,
      });
      expect(r.code, r.stderr).toBe(0);
      expectLabNodes(r.stdout);
      // The daemon's host key must be known, as with the docker CLI's own ssh.
      const empty = join(agentDir, 'known_hosts_empty');
      writeFileSync(empty, '');
      const refused = await docker(cfg.dir, ['--context', 'labssh', 'netdoctor', 'nodes'], { SSH_AUTH_SOCK: sock, NETDOCTOR_SSH_KNOWN_HOSTS: empty });
      expect(refused.code).toBe(3);
      expect(expectOneLineError(refused)).toMatch(/the ssh host key of root@10\.213\.0\.11 is not known \(ssh-ed25519 SHA256:/);
    } finally {
      if (pid) process.kill(Number(pid));
    }
  });
});

describe('errors: one line, documented exit code', () => {
  it('no daemon at the endpoint → 3', async () => {
    const r = await docker(cfg.dir, ['--host', 'unix:///nonexistent/docker.sock', 'netdoctor', 'nodes']);
    expect(r.code).toBe(3);
    expect(expectOneLineError(r)).toMatch(/^docker netdoctor: cannot connect to the Docker daemon at unix:\/\/\/nonexistent\/docker\.sock/);
  });

  it('check --output still leaves a report for CI when the daemon cannot be reached (exit 3)', async () => {
    const out = join(cfg.dir, 'unreachable.xml');
    const r = await docker(cfg.dir, ['--host', 'unix:///nonexistent/docker.sock', 'netdoctor', 'check', '--format', 'junit', '--output', out]);
    expect(r.code).toBe(3);
    expect(expectOneLineError(r)).toMatch(/cannot connect to the Docker daemon/);
    const xml = readFileSync(out, 'utf8');
    expect(xml).toContain('<error message="cannot connect to the Docker daemon at unix:///nonexistent/docker.sock');
  });

  it('a worker endpoint → 3, naming the need for a manager', async () => {
    const r = await docker(cfg.dir, ['--host', worker, 'netdoctor', 'nodes']);
    expect(r.code).toBe(3);
    expect(expectOneLineError(r)).toMatch(/is a swarm worker; netdoctor needs a manager/);
  });

  it('a daemon not in a swarm → 3, naming the need for a swarm manager', async () => {
    const standalone = await standaloneUp();
    try {
      const r = await docker(cfg.dir, ['--host', `unix://${standalone.dockerSocket}`, 'netdoctor', 'nodes']);
      expect(r.code).toBe(3);
      expect(expectOneLineError(r)).toMatch(/is not part of a swarm \(Swarm: inactive\); run docker netdoctor against a swarm manager/);
    } finally {
      await standaloneDown();
    }
  });

  it('a malformed config.json → 2', async () => {
    const bad = join(cfg.dir, 'bad');
    mkdirSync(bad, { recursive: true });
    writeFileSync(join(bad, 'config.json'), '{"currentContext": ');
    const r = await run(BIN, ['nodes'], { DOCKER_CONFIG: bad, DOCKER_HOST: '', DOCKER_CONTEXT: '' });
    expect(r.code).toBe(2);
    expect(expectOneLineError(r)).toMatch(/config file .*config\.json is not valid JSON/);
  });

  it('an unknown context → 2', async () => {
    const r = await docker(cfg.dir, ['netdoctor', 'nodes'], { DOCKER_CONTEXT: 'nope' });
    // docker itself validates DOCKER_CONTEXT before running a plugin in some versions; either way the user gets one line.
    expect(r.code === 2 || r.code === 1).toBe(true);
    const direct = await run(BIN, ['nodes'], { DOCKER_CONFIG: cfg.dir, DOCKER_CONTEXT: 'nope', DOCKER_HOST: '' });
    expect(direct.code).toBe(2);
    expect(expectOneLineError(direct)).toMatch(/context "nope" does not exist/);
  });

  it('an unknown flag → 2', async () => {
    const r = await docker(cfg.dir, ['--host', manager, 'netdoctor', 'nodes', '--bogus']);
    expect(r.code).toBe(2);
    expect(expectOneLineError(r)).toMatch(/Nonexistent flag: --bogus/);
  });
});
