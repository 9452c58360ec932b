import type Dockerode from 'dockerode';
import { sortNodes, summariseNode, type EngineNode, type NodeSummary } from './nodes.js';

export async function listNodes(docker: Dockerode): Promise<NodeSummary[]> {
  const raw = (await docker.listNodes()) as unknown as EngineNode[];
  return sortNodes(raw.map(summariseNode));
}
