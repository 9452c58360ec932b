/**
 * vitest's own order (failed and slow files first, from its cache; else the
 * largest), except that the e2e files whose faults reach past the lab run
 * last: rows.test.ts fills a node's conntrack table, and the kernel's "table
 * full" line it logs is in the one kernel log every lab node reads (dmesg),
 * so any later `check` within its --since window (default 1 h) would fail
 * log.kernel.tables on every node.
 */
import { BaseSequencer, type TestSpecification } from 'vitest/node';

export const LAST = ['test/e2e/rows.test.ts'];

export default class E2eSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const last = (f: TestSpecification) => LAST.some((name) => f.moduleId.endsWith(`/${name}`));
    return [...sorted.filter((f) => !last(f)), ...sorted.filter(last)];
  }
}
