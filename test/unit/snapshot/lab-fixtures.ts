/**
 * Outputs recorded from the real lab (test/lab): the collection script's
 * framed stdout per node and the manager's Engine API answers.
 */
import { readFileSync } from 'node:fs';
import { splitSections, type SplitOutput } from '../../../src/collect/sections.js';
import type { ClusterRaw } from '../../../src/collect/cluster.js';

const dir = (scenario: string) => new URL(`../../fixtures/lab/${scenario}/`, import.meta.url);

export function recordedNode(scenario: string, node: string): SplitOutput {
  const base = dir(scenario);
  const marker = readFileSync(new URL(`${node}.marker`, base), 'utf8').trim();
  return splitSections(readFileSync(new URL(`${node}.txt`, base), 'utf8'), marker);
}

export function recordedCluster(scenario: string): ClusterRaw {
  return JSON.parse(readFileSync(new URL('cluster.json', dir(scenario)), 'utf8')) as ClusterRaw;
}
