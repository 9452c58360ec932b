/**
 * A run that cannot start still leaves a report (--output), with one error
 * finding under the id of its cause: the real errors of a corrupt bundle, a
 * bad snapshot and an endpoint with no daemon, not a made-up message.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readBundle } from '../../../src/bundle/read.js';
import { REGISTRY } from '../../../src/checks/registry.js';
import { createDockerClient, requireSwarmManager } from '../../../src/docker/client.js';
import { resolveEndpoint } from '../../../src/docker/endpoint.js';
import { failureReport, START_FAILURES } from '../../../src/report/model.js';
import { renderJson, renderJunit, renderText } from '../../../src/report/render.js';
import { parseSnapshot } from '../../../src/snapshot/io.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'netdoctor-failure-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const thrown = async (p: Promise<unknown> | (() => unknown)): Promise<unknown> => {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    return err;
  }
  throw new Error('expected a failure');
};

const startedAt = new Date('2026-11-29T12:00:00Z');

describe('failureReport files start-up failures by cause', () => {
  it('a corrupt bundle is bad input (exit 2), not a swarm problem', async () => {
    const file = path.join(dir, 'corrupt.tar.gz');
    writeFileSync(file, Buffer.from('1f8b0800000000000003ffffffff', 'hex'));
    const r = failureReport(await thrown(readBundle(file)), '1.2.3', startedAt);
    expect(r.findings).toMatchObject([
      { id: 'cluster.start.bad-input', layer: 'cluster', status: 'error', messageId: 'error.start', detail: expect.stringContaining(file) },
    ]);
    expect(r.findings[0]!.id).not.toBe('cluster.swarm.active');
  });

  it('a snapshot that is not JSON is bad input', async () => {
    const r = failureReport(await thrown(() => parseSnapshot('{"schemaVersion": ', 'snap.json')), '1.2.3', startedAt);
    expect(r.findings[0]).toMatchObject({ id: START_FAILURES.badInput.id, detail: expect.stringMatching(/^snap\.json is not a netdoctor snapshot/) });
  });

  it('no daemon at the endpoint is "cannot reach a manager" (exit 3)', async () => {
    const sock = path.join(dir, 'nope.sock');
    const ep = resolveEndpoint({ host: [`unix://${sock}`] }, {}, dir);
    const r = failureReport(await thrown(requireSwarmManager(createDockerClient(ep), ep)), '1.2.3', startedAt);
    expect(r.findings[0]).toMatchObject({ id: 'cluster.start.unreachable', detail: expect.stringContaining('cannot connect to the Docker daemon') });
    expect(r.findings[0]!.remediation).toMatch(/--host\/--context/);
  });

  it('anything else is a netdoctor failure, named as such', () => {
    const r = failureReport(new TypeError("Cannot read properties of undefined (reading 'Spec')"), '1.2.3', startedAt);
    expect(r.findings[0]).toMatchObject({ id: 'cluster.start.failed', status: 'error', remediation: expect.stringContaining('-D') });
  });

  it('keeps the JSON contract and the JUnit error CI reads', async () => {
    const r = failureReport(await thrown(() => parseSnapshot('[]', 'snap.json')), '1.2.3', startedAt);
    const j = JSON.parse(renderJson(r));
    expect(Object.keys(j)).toEqual(['schemaVersion', 'tool', 'startedAt', 'durationMs', 'cluster', 'summary', 'findings', 'problems']);
    expect(Object.keys(j.findings[0])).toEqual(['id', 'layer', 'status', 'node', 'peer', 'network', 'title', 'messageId', 'detail', 'remediation']);
    expect(j.summary).toEqual({ pass: 0, warn: 0, fail: 0, skip: 0, error: 1 });
    const xml = renderJunit(r);
    expect(xml).toContain(
      '<error message="snap.json is not a netdoctor snapshot (no schemaVersion, cluster and nodes)" type="cluster.start.bad-input">',
    );
    const py = spawnSync(
      'python3',
      ['-c', 'import sys,xml.etree.ElementTree as E; r=E.fromstring(sys.stdin.read()); print(len(r.findall(".//error")))'],
      { input: xml, encoding: 'utf8' },
    );
    expect(py.stdout.trim()).toBe('1');
    expect(renderText(r, { color: false, verbose: false })).toContain('netdoctor could not read its input');
  });

  it('no check takes a start-up id', () => {
    for (const c of REGISTRY) expect(c.meta.id.startsWith('cluster.start.'), c.meta.id).toBe(false);
    for (const f of Object.values(START_FAILURES)) expect(f.id).toMatch(/^cluster\.start\.[a-z-]+$/);
  });
});
