/**
 * Outputs recorded from the real lab (test/lab): the collection script's
 * framed stdout per node and the manager's Engine API answers.
 */
import { readFileSync } from 'node:fs';
import { splitSections, type SplitOutput } from '../../src/collect/sections.js';
import { buildClusterFacts, type ClusterRaw } from '../../src/collect/cluster.js';
import { buildNodeSnapshot } from '../../src/snapshot/node.js';
import { SNAPSHOT_SCHEMA_VERSION, type ClusterSnapshot } from '../../src/snapshot/types.js';

const dir = (scenario: string) => new URL(`../fixtures/lab/${scenario}/`, import.meta.url);

export function recordedNode(scenario: string, node: string): SplitOutput {
  const base = dir(scenario);
  const marker = readFileSync(new URL(`${node}.marker`, base), 'utf8').trim();
  return splitSections(readFileSync(new URL(`${node}.txt`, base), 'utf8'), marker);
}

export function recordedCluster(scenario: string): ClusterRaw {
  return JSON.parse(readFileSync(new URL('cluster.json', dir(scenario)), 'utf8')) as ClusterRaw;
}

/**
 * A whole ClusterSnapshot from a recorded lab scenario (test/fixtures/lab/<scenario>):
 * the manager's answers in cluster.json and one <node>.txt/.marker per node.
 * Tests that need a fault the lab kernel cannot show mutate a structuredClone of it.
 */
export function labSnapshot(scenario = 'healthy', nodes = ['nd1', 'nd2', 'nd3']): ClusterSnapshot {
  const cluster = buildClusterFacts(recordedCluster(scenario));
  return {
    schemaVersion: SNAPSHOT_SCHEMA_VERSION,
    tool: { name: 'docker-netdoctor', version: '0.0.0-test' },
    startedAt: '2026-11-25T15:12:00.000Z',
    durationMs: 1000,
    endpoint: { host: 'unix:///tmp/ndlab/nodes/nd1/docker.sock', context: 'default' },
    cluster,
    nodes: nodes.map((name) => {
      const node = cluster.nodes.find((n) => n.name === name);
      const output = recordedNode(scenario, name);
      const clock = Number.parseFloat(output.sections['host/clock']?.stdout ?? '0');
      return buildNodeSnapshot(
        {
          name,
          id: node?.id ?? null,
          target: { host: node?.sshAddress ?? name, port: 22, user: 'root', via: [] },
          output,
          errors: [],
          timings: { connectMs: 50, execMs: 500, totalMs: 550 },
          receivedAt: clock,
        },
        cluster.networks,
      );
    }),
  };
}
