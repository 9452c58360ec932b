// vitest globalSetup of the e2e project: bring the lab swarm up once
// (ND_LAB_NODES nodes, default 3) and tear it down at the end unless
// ND_LAB_KEEP=1.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { labDown, labScript, labState, labUp } from '../lab/lab.js';

export default async function setup(): Promise<() => Promise<void>> {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) {
    throw new Error(
      'The e2e suite needs root and the lab: it builds a real Docker Swarm in network/mount/PID namespaces ' +
        `(bash ${labScript} up). Run it as root on Linux, or run only the unit tests (npx vitest run --project unit).`,
    );
  }
  const raw = process.env.ND_LAB_NODES;
  let nodes: number | undefined;
  if (raw !== undefined && raw !== '') {
    nodes = Number(raw);
    if (!Number.isInteger(nodes) || nodes < 1) throw new Error(`ND_LAB_NODES must be a positive integer (got '${raw}')`);
  }
  await labUp(nodes);
  // The log layer of every run in this suite reads from this lab's birth on (lab.sh touches its state
  // marker first thing when it builds one): the lab's nodes share this machine's kernel log, which
  // holds what earlier suites and labs did (rows.test.ts fills a conntrack table: "table full" stays
  // in dmesg). The workers and the CLI processes they start inherit it; NETDOCTOR_SINCE is --since.
  process.env.NETDOCTOR_SINCE ??= `@${Math.floor(statSync(join(labState().dir, '.ndlab-state')).mtimeMs / 1000)}`;
  return async () => {
    if (process.env.ND_LAB_KEEP !== '1') await labDown();
  };
}
