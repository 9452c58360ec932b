import { listText, plural } from '../../text/list.js';
import { prose } from '../../text/shell.js';
import { defineCheck } from '../types.js';
import { upgradeStep } from './lib/engine-package.js';

/** Numeric parts of an Engine version (26.1.5+dfsg1 → [26, 1, 5]) compared left to right. */
function newer(a: string, b: string): number {
  const pa = a
    .split(/[^0-9.]/, 1)[0]!
    .split('.')
    .map(Number);
  const pb = b
    .split(/[^0-9.]/, 1)[0]!
    .split('.')
    .map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] || 0) - (pb[i] || 0);
    if (d !== 0) return d;
  }
  return 0;
}

export default defineCheck({
  meta: {
    id: 'cluster.engine.skew',
    layer: 'cluster',
    title: 'Same Docker Engine version everywhere',
    looksAt: "Description.Engine.EngineVersion of every node (the node's own `docker version` when the swarm does not report it).",
    remediation:
      'Upgrade the older nodes to the newest Engine version, managers first, one node at a time (drain, upgrade the package the node runs, activate).',
    scope: 'cluster',
    failures: [],
    needs: ['swarm'],
    messages: {
      unknown: 'no node reported its Engine version',
      same: 'all {nodes} run Engine {version}{note}',
      differ: 'Engine versions differ: {versions}{note}{majors}; mixed versions are meant only for the time of a rolling upgrade.',
    },
  },
  check({ model, report }) {
    const byVersion = new Map<string, string[]>();
    const unknown: string[] = [];
    for (const n of model.cluster.nodes) {
      const v = n.engineVersion ?? model.nodeFor(n)?.host?.dockerVersion ?? null;
      if (v === null) unknown.push(n.name);
      else byVersion.set(v, [...(byVersion.get(v) ?? []), n.name]);
    }
    const note = unknown.length ? `; version unknown for ${listText(unknown)}` : '';
    if (byVersion.size === 0) {
      report('skip', 'unknown');
      return;
    }
    // Most common first in the text; the newest is the version the others are
    // told to move to (Engine downgrades are not supported).
    const list = [...byVersion.entries()].sort((a, b) => b[1].length - a[1].length);
    const [main, mainNodes] = list[0]!;
    if (list.length === 1) {
      report('pass', 'same', { nodes: plural(mainNodes.length, 'node'), version: main, note });
      return;
    }
    const target = list.reduce((t, [v]) => (newer(v, t) > 0 ? v : t), main);
    const older = list.filter(([v]) => v !== target).flatMap(([, ns]) => ns);
    const byName = new Map(model.nodes.map((n) => [n.name, n]));
    const step = upgradeStep(older.map((name) => ({ name, pkg: byName.get(name)?.host?.dockerPackage })));
    const majors = new Set(list.map(([v]) => v.split('.')[0]));
    report(
      'warn',
      'differ',
      {
        versions: list.map(([v, ns]) => `${v} on ${listText(ns)}`).join('; '),
        note,
        majors: majors.size > 1 ? '. Different major versions change overlay, iptables and IPVS programming between nodes' : '',
      },
      {
        remediation: `Upgrade ${listText(older.map(prose))} to ${prose(target)}, managers first, one node at a time: \`docker node update --availability drain <node>\`, ${step}, \`docker node update --availability active <node>\`.`,
      },
    );
  },
});
