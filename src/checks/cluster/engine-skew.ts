import { listText, plural } from '../../text/list.js';
import { defineCheck } from '../types.js';

export default defineCheck({
  meta: {
    id: 'cluster.engine.skew',
    layer: 'cluster',
    title: 'Same Docker Engine version everywhere',
    looksAt: "Description.Engine.EngineVersion of every node (the node's own `docker version` when the swarm does not report it).",
    remediation: 'Upgrade the nodes to one Engine version, managers first, one node at a time (drain, upgrade, activate).',
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
    // Most common first: the version the others are told to move to.
    const list = [...byVersion.entries()].sort((a, b) => b[1].length - a[1].length);
    const [main, mainNodes] = list[0]!;
    if (list.length === 1) {
      report('pass', 'same', { nodes: plural(mainNodes.length, 'node'), version: main, note });
      return;
    }
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
        remediation: `Upgrade ${listText(list.slice(1).flatMap(([, ns]) => ns))} to ${main} (or all to the newest), one node at a time: \`docker node update --availability drain <node>\`, upgrade docker-ce, \`docker node update --availability active <node>\`.`,
      },
    );
  },
});
