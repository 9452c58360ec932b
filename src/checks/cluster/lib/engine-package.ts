/**
 * How to upgrade Docker on given nodes, naming the package each node really
 * runs (host/docker-package: docker.io, docker-ce, moby-engine, the docker
 * snap…) instead of assuming Docker's own docker-ce.
 */
import type { DockerPackage } from '../../../snapshot/types.js';
import { listText } from '../../../text/list.js';
import { code, prose, shq } from '../../../text/shell.js';

export interface NodePackage {
  name: string;
  /** undefined/null: not collected (an older snapshot, the node unreachable). */
  pkg: DockerPackage | null | undefined;
}

const UPGRADE = {
  dpkg: (p: string) => `apt-get install --only-upgrade ${shq(p)}`,
  rpm: (p: string) => `dnf upgrade ${shq(p)}`,
  snap: (p: string) => `snap refresh ${shq(p)}`,
} as const;

/** One group's advice: `upgrade docker.io (\`apt-get install --only-upgrade docker.io\`)`. */
function one(pkg: DockerPackage | null | undefined): string {
  if (pkg?.manager && pkg.name) return `upgrade ${pkg.name} (${code(UPGRADE[pkg.manager](pkg.name))})`;
  if (pkg && pkg.exe) return `replace ${prose(pkg.exe)}, which no package owns, with the new dockerd`;
  return 'upgrade the Docker Engine package';
}

const keyOf = (pkg: DockerPackage | null | undefined): string =>
  pkg?.manager && pkg.name ? `${pkg.manager} ${pkg.name}` : pkg?.exe ? `exe ${pkg.exe}` : 'unknown';

/**
 * The upgrade step for these nodes: one phrase when they all run the same
 * package, else one per package naming its nodes.
 */
export function upgradeStep(nodes: readonly NodePackage[]): string {
  const groups = new Map<string, { pkg: DockerPackage | null | undefined; nodes: string[] }>();
  for (const n of nodes) {
    const k = keyOf(n.pkg);
    const g = groups.get(k) ?? { pkg: n.pkg, nodes: [] };
    g.nodes.push(n.name);
    groups.set(k, g);
  }
  if (groups.size <= 1) return one([...groups.values()][0]?.pkg);
  return [...groups.values()].map((g) => `on ${listText(g.nodes.map(prose))}: ${one(g.pkg)}`).join('; ');
}
