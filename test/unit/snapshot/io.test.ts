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

describe('the snapshot schema', () => {
  it('accepts the recorded lab snapshot, with and without probe results', () => {
    const snap = labSnapshot('healthy');
    expect(parseSnapshot(JSON.stringify(snap), 's.json').nodes.length).toBe(3);
    const probed = {
      ...snap,
      probes: {
        startedAt: snap.startedAt,
        durationMs: 5,
        ports: [{ from: 'nd1', to: 'nd2', proto: 'udp', port: 4789, purpose: 'data-path', state: 'ok', detail: '' }],
        mtu: [],
        dataPath: [],
        errors: [],
      },
    };
    expect(parseSnapshot(JSON.stringify(probed), 's.json').probes!.ports).toHaveLength(1);
  });

  const broken: [string, (s: Record<string, any>) => void, RegExp][] = [
    ['a node without host facts object', (s) => (s.nodes[0].host = 'x'), /nodes\.0\.host: /],
    ['interfaces not a list', (s) => (s.nodes[1].host.interfaces = {}), /nodes\.1\.host\.interfaces: .*Array/],
    ['a raw section without stdout', (s) => delete s.nodes[0].raw['host/hostname'].stdout, /nodes\.0\.raw\.host\/hostname\.stdout/],
    ['a sandbox fdb entry with a numeric mac', (s) => (s.nodes[2].sandboxes[0].fdb = [{ mac: 1 }]), /nodes\.2\.sandboxes\.0\.fdb\.0\.mac/],
    ['cluster without networks', (s) => delete s.cluster.networks, /cluster\.networks: /],
    ['an unknown node status', (s) => (s.nodes[0].status = 'pwned'), /nodes\.0\.status: /],
    ['cluster.raw.services not a list', (s) => (s.cluster.raw.services = 'x'), /cluster\.raw\.services: /],
  ];
  for (const [what, mutate, msg] of broken) {
    it(`refuses ${what} in one line naming the place`, async () => {
      const s = JSON.parse(JSON.stringify(labSnapshot('healthy')));
      mutate(s);
      await usage(() => parseSnapshot(JSON.stringify(s), 'b.json'), msg);
      try {
        parseSnapshot(JSON.stringify(s), 'b.json');
      } catch (e) {
        expect((e as Error).message).toMatch(/^b\.json is not a valid netdoctor snapshot: /);
        expect((e as Error).message).not.toContain('\n');
      }
    });
  }
});

describe('reading a snapshot file is bounded', () => {
  it('refuses a file larger than the limit before reading it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nd-snap-big-'));
    const f = join(dir, 'big.json');
    writeFileSync(f, Buffer.alloc(3 * 2 ** 20, 0x20));
    await usage(readSnapshot(f, 2 * 2 ** 20), /big\.json is 3 MiB, larger than the 2 MiB accepted for a snapshot/);
  });
});
