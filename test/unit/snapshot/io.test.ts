import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExitCode, NetdoctorError } from '../../../src/errors.js';
import { parseSnapshot, readSnapshot } from '../../../src/snapshot/io.js';
import { SNAPSHOT_SCHEMA_VERSION } from '../../../src/snapshot/types.js';
import { labSnapshot } from '../../support/lab-fixtures.js';

const usage = async (p: Promise<unknown> | (() => unknown), msg: RegExp) => {
  const run = typeof p === 'function' ? Promise.resolve().then(p) : p;
  const err = await run.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(NetdoctorError);
  expect((err as NetdoctorError).exitCode).toBe(ExitCode.Usage);
  expect((err as Error).message).toMatch(msg);
};

describe('reading a snapshot file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nd-snap-'));

  it('round-trips a lab snapshot', async () => {
    const snap = labSnapshot('healthy');
    const f = join(dir, 'ok.json');
    writeFileSync(f, JSON.stringify(snap));
    expect(await readSnapshot(f)).toEqual(JSON.parse(JSON.stringify(snap)));
  });

  it('refuses, as input errors: a missing file, not JSON, not a snapshot, a newer schema', async () => {
    await usage(readSnapshot(join(dir, 'missing.json')), /cannot read .*missing\.json: ENOENT/);
    await usage(() => parseSnapshot('{"a":', 'x.json'), /x\.json is not a netdoctor snapshot: not valid JSON/);
    await usage(() => parseSnapshot('{"a":1}', 'x.json'), /no schemaVersion, cluster and nodes/);
    const newer = { ...labSnapshot('healthy'), schemaVersion: SNAPSHOT_SCHEMA_VERSION + 1 };
    await usage(() => parseSnapshot(JSON.stringify(newer), 'n.json'), /newer than this netdoctor understands/);
  });
});
