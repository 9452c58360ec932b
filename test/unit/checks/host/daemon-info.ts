/** `docker info --format '{{json .}}'` faults on the recorded lab, for the host.daemon.* and host.underlay.* tests. */
import type { ClusterSnapshot } from '../../../../src/snapshot/types.js';
import { nodeOf, ok, setSection } from '../../../support/lab-mutate.js';

/** The node's recorded docker info with `fn` applied to the decoded object. */
export function withDockerInfo(
  s: ClusterSnapshot,
  node: string,
  fn: (info: Record<string, unknown> & { Swarm: Record<string, unknown> }) => void,
): void {
  const info = JSON.parse(nodeOf(s, node).raw['host/docker-info']!.stdout) as Record<string, unknown> & { Swarm: Record<string, unknown> };
  fn(info);
  setSection(s, node, 'host/docker-info', ok(JSON.stringify(info)));
}
