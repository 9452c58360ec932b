/** Sysctl faults on the recorded lab, for the host.sysctl.* tests. */
import type { ClusterSnapshot } from '../../../../src/snapshot/types.js';
import { nodeOf, ok, setSection } from '../../../support/lab-mutate.js';

/** The node's recorded sysctl section with one key's line changed ('<absent>' as the script prints a missing key). */
export function withSysctl(s: ClusterSnapshot, node: string, key: string, value: string): void {
  const text = nodeOf(s, node).raw['host/sysctl']!.stdout;
  const line = new RegExp(`^${key.replace(/[/.]/g, '\\$&')}=.*$`, 'm');
  setSection(s, node, 'host/sysctl', ok(line.test(text) ? text.replace(line, `${key}=${value}`) : `${text}\n${key}=${value}`));
}
