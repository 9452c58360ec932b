/**
 * Reading a snapshot file back: a clear one-line error (exit 2) for anything
 * that is not a snapshot this version understands: not JSON, a newer schema
 * version, or any field the checks read missing or of the wrong type
 * (validated against schema.ts before anything dereferences it).
 */
import { readFile, stat } from 'node:fs/promises';
import { NetdoctorError, usageError } from '../errors.js';
import { ClusterSnapshotSchema, schemaProblem } from './schema.js';
import { SNAPSHOT_SCHEMA_VERSION, type ClusterSnapshot } from './types.js';

export function parseSnapshot(text: string, source: string): ClusterSnapshot {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw usageError(`${source} is not a netdoctor snapshot: not valid JSON (${(err as Error).message})`);
  }
  const s = v as Partial<ClusterSnapshot> | null;
  if (!s || typeof s !== 'object' || typeof s.schemaVersion !== 'number' || !s.cluster || !Array.isArray(s.nodes)) {
    throw usageError(`${source} is not a netdoctor snapshot (no schemaVersion, cluster and nodes)`);
  }
  if (s.schemaVersion > SNAPSHOT_SCHEMA_VERSION) {
    throw usageError(
      `${source} has snapshot schema ${s.schemaVersion}, newer than this netdoctor understands (${SNAPSHOT_SCHEMA_VERSION}); upgrade docker-netdoctor`,
    );
  }
  const problem = schemaProblem(ClusterSnapshotSchema, s);
  if (problem !== null) throw usageError(`${source} is not a valid netdoctor snapshot: ${problem}`);
  return s as ClusterSnapshot;
}

/** Largest snapshot file read (a 3-node lab snapshot is about 250 KiB; node sections are capped at 96 MiB a node). */
export const MAX_SNAPSHOT_BYTES = 256 * 2 ** 20;

export async function readSnapshot(file: string, maxBytes = MAX_SNAPSHOT_BYTES): Promise<ClusterSnapshot> {
  let text: string;
  try {
    const st = await stat(file);
    if (st.isFile() && st.size > maxBytes) {
      throw usageError(
        `${file} is ${Math.round(st.size / 2 ** 20)} MiB, larger than the ${Math.round(maxBytes / 2 ** 20)} MiB accepted for a snapshot`,
      );
    }
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (err instanceof NetdoctorError) throw err;
    throw usageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parseSnapshot(text, file);
}
