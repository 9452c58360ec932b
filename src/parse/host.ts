/**
 * Host facts from the raw sections of one node (see collect/script.ts).
 * Pure: raw text in, typed facts out; a missing or failed section gives null
 * or an Unavailable with the node's own error text as the reason.
 */
import { isDockerChain } from './iptables.js';
import type { RawSection } from '../collect/sections.js';
import type { DockerPackage, HostFacts, Unavailable } from '../snapshot/types.js';
import { parseInterfaces, parseRoutes } from './iproute.js';

type Sections = Record<string, RawSection>;

const ok = (s: RawSection | undefined): s is RawSection => s !== undefined && s.rc === 0;
const text = (s: RawSection | undefined): string | null => (ok(s) ? s.stdout.trim() : null);

export function unavailable(s: RawSection | undefined, what: string): Unavailable {
  if (!s) return { unavailable: true, reason: `${what} was not collected` };
  const reason = s.stderr.trim().split('\n')[0] || `${what} exited ${s.rc ?? 'before finishing'}`;
  return { unavailable: true, reason };
}

/** `key=value` lines. */
export function parseKeyValues(t: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of t.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) out[line.slice(0, i).trim()] = line.slice(i + 1).trim();
  }
  return out;
}

export function parseModules(t: string): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  for (const line of t.split('\n')) {
    const [name, state] = line.trim().split(/\s+/);
    if (name && (state === 'present' || state === 'absent')) out[name] = state === 'present';
  }
  return out;
}

/** `systemctl show docker --property=…` or unit-file grep output → MountFlags value. */
export function parseMountFlags(systemctl: string | null, unitFiles: string | null): { value: string | null; source: HostFacts['mountFlagsSource'] } {
  if (systemctl !== null) {
    const kv = parseKeyValues(systemctl);
    if ('MountFlags' in kv) return { value: kv.MountFlags || 'shared', source: 'systemctl' };
  }
  if (unitFiles !== null) {
    // Later files (drop-ins) override earlier ones, as systemd does.
    let value: string | null = null;
    for (const line of unitFiles.split('\n')) {
      const m = /^\s*MountFlags=(.*)$/.exec(line);
      if (m) value = m[1]!.trim();
    }
    if (value !== null) return { value, source: 'unit-file' };
  }
  return { value: null, source: 'none' };
}

export function execRootOf(cmdline: string | null): string {
  if (!cmdline) return '/var/run/docker';
  const m = /--exec-root(?:=|\s+)(\S+)/.exec(cmdline);
  return m?.[1] ?? '/var/run/docker';
}

/** `ss -Htulnp` lines: `udp UNCONN 0 0 0.0.0.0:7946 0.0.0.0:* users:(("dockerd",pid=1,fd=3))`. */
export function parseListening(t: string): { proto: string; address: string; port: number; process: string | null }[] {
  const out: { proto: string; address: string; port: number; process: string | null }[] = [];
  for (const line of t.split('\n')) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 5) continue;
    const local = cols[4]!;
    const i = local.lastIndexOf(':');
    const port = Number.parseInt(local.slice(i + 1), 10);
    if (i < 0 || Number.isNaN(port)) continue;
    const proc = /users:\(\("([^"]+)"/.exec(line)?.[1] ?? null;
    out.push({
      proto: cols[0]!,
      address: local
        .slice(0, i)
        .replace(/^\[|\]$/g, '')
        .replace(/%.*$/, ''),
      port,
      process: proc,
    });
  }
  return out;
}

/** `## eth0 vmxnet3` headers followed by `feature: on|off [fixed]` lines. */
export function parseEthtool(t: string): Record<string, { driver: string | null; features: Record<string, string> }> {
  const out: Record<string, { driver: string | null; features: Record<string, string> }> = {};
  let cur: { driver: string | null; features: Record<string, string> } | null = null;
  for (const line of t.split('\n')) {
    const h = /^## (\S+)(?:\s+(\S+))?/.exec(line);
    if (h) {
      cur = { driver: h[2] ?? null, features: {} };
      out[h[1]!] = cur;
      continue;
    }
    const f = /^\s*([\w-]+):\s*(.+)$/.exec(line);
    if (f && cur) cur.features[f[1]!] = f[2]!.trim();
  }
  return out;
}

/** Which backend holds Docker's chains: iptables-legacy-save and iptables-nft-save each checked. */
export function dockerRuleBackends(legacy: string | null, nft: string | null, plain: string | null, version: string | null): ('legacy' | 'nft')[] {
  // A chain declaration (`:DOCKER-USER - [0:0]`) naming one of Docker's chains.
  const hasDocker = (t: string | null) => t !== null && t.split('\n').some((l) => l.startsWith(':') && isDockerChain(l.slice(1).split(/\s/, 1)[0]!));
  const out: ('legacy' | 'nft')[] = [];
  if (legacy !== null || nft !== null) {
    if (hasDocker(legacy)) out.push('legacy');
    if (hasDocker(nft)) out.push('nft');
  } else if (hasDocker(plain)) {
    out.push(version?.includes('nf_tables') ? 'nft' : 'legacy');
  }
  return out;
}

const PACKAGE_NAME = /^[A-Za-z0-9][A-Za-z0-9.+_-]{0,99}$/;

/**
 * The host/docker-package section (`exe PATH`, then `package MANAGER NAME`
 * or `package none`) → where dockerd came from; null when the section is
 * missing or says nothing usable. A name that is not a package name is
 * dropped (it is pasted into remediations).
 */
export function parseDockerPackage(out: string | null): DockerPackage | null {
  if (out === null) return null;
  let exe: string | null = null;
  let manager: DockerPackage['manager'] = null;
  let name: string | null = null;
  let said = false;
  for (const line of out.split('\n', 20)) {
    if (line.startsWith('exe /')) exe = line.slice(4, 4 + 4096);
    const m = /^package (dpkg|rpm|snap) (\S+)$/.exec(line.slice(0, 200));
    if (m && PACKAGE_NAME.test(m[2]!)) {
      manager = m[1] as 'dpkg' | 'rpm' | 'snap';
      name = m[2]!;
      said = true;
    } else if (line === 'package none') said = true;
  }
  return said || exe !== null ? { exe, manager, name } : null;
}

/** The Server part of `docker version` (the API's /version), as far as it is read. */
interface ServerVersion {
  Version?: unknown;
  Components?: unknown;
}

/** containerd's version as dockerd reports it among its Components: `containerd 1.7.20 (8fc6bcff…)`. */
export function containerdOf(server: ServerVersion | null | undefined): string | null {
  if (!server || !Array.isArray(server.Components)) return null;
  for (const c of server.Components as unknown[]) {
    if (typeof c !== 'object' || c === null) continue;
    const { Name, Version, Details } = c as { Name?: unknown; Version?: unknown; Details?: unknown };
    if (Name !== 'containerd' || typeof Version !== 'string') continue;
    const commit = typeof Details === 'object' && Details !== null ? (Details as { GitCommit?: unknown }).GitCommit : undefined;
    return typeof commit === 'string' && commit !== '' ? `containerd ${Version} (${commit})` : `containerd ${Version}`;
  }
  return null;
}

export function buildHostFacts(raw: Sections, localReceived: number): HostFacts {
  const pidText = text(raw['host/dockerd-pid']);
  const pid = pidText ? Number.parseInt(pidText.split(/\s+/)[0]!, 10) : null;
  const cmdline = text(raw['host/dockerd-cmdline']);
  const mountns = text(raw['host/mountns']);
  let separateMountNs: boolean | null = null;
  if (mountns) {
    const m = /self=(\S*) dockerd=(\S*)/.exec(mountns);
    if (m && m[1] && m[2]) separateMountNs = m[1] !== m[2];
  }
  const mf = parseMountFlags(text(raw['host/systemd-docker']), text(raw['host/unit-files']));
  const version = text(raw['host/iptables-version']);
  let dockerVersion: string | null = null;
  let containerdFromDocker: string | null = null;
  const dv = raw['host/docker-version'];
  if (dv && dv.stdout.trim()) {
    try {
      const v = JSON.parse(dv.stdout) as { Server?: ServerVersion | null; Client?: { Version?: string } };
      dockerVersion = typeof v.Server?.Version === 'string' ? v.Server.Version : null;
      containerdFromDocker = containerdOf(v.Server);
    } catch {
      dockerVersion = null;
    }
  }
  const os = text(raw['host/os-release']);
  const clock = text(raw['host/clock']);
  const listen = raw['host/listen'];
  const eth = raw['host/ethtool'];
  const addr = raw['host/addr'];
  return {
    hostname: text(raw['host/hostname']),
    kernel: text(raw['host/uname']),
    os: os ? (parseKeyValues(os).PRETTY_NAME?.replace(/^"|"$/g, '') ?? null) : null,
    uid: text(raw['host/id']) !== null ? Number.parseInt(text(raw['host/id'])!, 10) : null,
    dockerVersion,
    dockerPackage: parseDockerPackage(text(raw['host/docker-package'])),
    containerdVersion: text(raw['host/containerd-version']) ?? containerdFromDocker,
    dockerd: {
      running: pid !== null && !Number.isNaN(pid),
      pid: pid !== null && !Number.isNaN(pid) ? pid : null,
      cmdline,
      separateMountNs,
      execRoot: execRootOf(cmdline),
    },
    mountFlags: mf.value,
    mountFlagsSource: mf.source,
    modules: parseModules(text(raw['host/modules']) ?? ''),
    sysctls: Object.fromEntries(Object.entries(parseKeyValues(text(raw['host/sysctl']) ?? '')).map(([k, v]) => [k, v === '<absent>' ? null : v])),
    iptables: {
      version,
      defaultBackend: version === null ? 'unknown' : version.includes('nf_tables') ? 'nft' : version.includes('legacy') ? 'legacy' : 'unknown',
      dockerRulesIn: dockerRuleBackends(
        text(raw['host/iptables-legacy-save']),
        text(raw['host/iptables-nft-save']),
        text(raw['host/iptables-save']),
        version,
      ),
    },
    interfaces: ok(addr) ? parseInterfaces(addr.stdout, raw['host/link']?.stdout).items : [],
    routes: ok(raw['host/route']) ? parseRoutes(raw['host/route'].stdout).items : [],
    listening: ok(listen) ? parseListening(listen.stdout) : unavailable(listen, 'ss'),
    offload: ok(eth) ? parseEthtool(eth.stdout) : unavailable(eth, 'ethtool'),
    clock: clock && !Number.isNaN(Number.parseFloat(clock)) ? { node: Number.parseFloat(clock), localReceived } : null,
  };
}

/** POSIX `times` output (shell user/sys, then children user/sys, as `1m2.5s` pairs) → total CPU ms. */
export function parseTimes(t: string): number | null {
  const parts = [...t.matchAll(/(\d+)m([\d.]+)s/g)];
  if (parts.length === 0) return null;
  return Math.round(parts.reduce((sum, m) => sum + Number(m[1]) * 60_000 + Number(m[2]) * 1000, 0));
}
