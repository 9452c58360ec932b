import { describe, expect, it } from 'vitest';
import { buildRegistry, REGISTRY, selectChecks } from '../../../src/checks/registry.js';
import { runChecks, summarise } from '../../../src/checks/runner.js';
import { defineCheck, LAYERS, type Status } from '../../../src/checks/types.js';
import { NetdoctorError } from '../../../src/errors.js';
import { labSnapshot } from '../../support/lab-fixtures.js';

/** A cluster-scope check that reports the given rows (one message id, the row's text as its detail). */
const meta = (
  id: string,
  layer: string,
  title = 't',
  remediation = 'r',
  rows: { status: Status; detail: string; node?: string; network?: string }[] = [],
) =>
  defineCheck({
    meta: { id, layer: layer as 'host', title, looksAt: 'l', remediation, failures: [], scope: 'cluster', messages: { row: '{detail}' } },
    check: ({ report }) => {
      for (const r of rows) report(r.status, 'row', { detail: r.detail }, { node: r.node ?? null, network: r.network ?? null });
    },
  });

describe('the check catalogue', () => {
  it('has unique, well-formed ids whose prefix is the layer, and complete metadata', () => {
    const ids = REGISTRY.map((c) => c.meta.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const c of REGISTRY) {
      expect(c.meta.id).toMatch(/^[a-z]+\.[a-z0-9-]+\.[a-z0-9-]+$/);
      expect(c.meta.id.split('.')[0]).toBe(c.meta.layer);
      expect(LAYERS).toContain(c.meta.layer);
      expect(c.meta.title.trim()).not.toBe('');
      expect(c.meta.looksAt.trim()).not.toBe('');
      expect(c.meta.remediation.trim()).not.toBe('');
    }
  });

  it('refuses duplicate ids', () => {
    const c = meta('host.x.y', 'host', 't', 'r');
    expect(() => buildRegistry([[c], [c]])).toThrow(/duplicate check id host\.x\.y/);
  });
});

describe('selection', () => {
  const reg = [
    meta('overlay.fdb.missing', 'overlay', 't', 'r'),
    meta('overlay.fdb.stale', 'overlay', 't', 'r'),
    meta('host.sysctl.ip-forward', 'host', 't', 'r'),
  ];
  it.each([
    [{ only: ['overlay'] }, ['overlay.fdb.missing', 'overlay.fdb.stale']],
    [{ only: ['overlay.fdb.stale'] }, ['overlay.fdb.stale']],
    [{ skip: ['overlay.fdb'] }, ['host.sysctl.ip-forward']],
    [{ only: ['overlay'], skip: ['overlay.fdb.missing'] }, ['overlay.fdb.stale']],
    [{}, ['overlay.fdb.missing', 'overlay.fdb.stale', 'host.sysctl.ip-forward']],
  ])('%j', (sel, ids) => {
    expect(selectChecks(sel, reg).map((c) => c.meta.id)).toEqual(ids);
  });

  it('a pattern matching nothing is a usage error', () => {
    expect(() => selectChecks({ only: ['overlay.nope'] }, reg)).toThrow(NetdoctorError);
    // A prefix is matched at dot boundaries only.
    expect(() => selectChecks({ only: ['overlay.fd'] }, reg)).toThrow(/no check matches "overlay.fd"/);
  });
});

describe('runner', () => {
  const snapshot = labSnapshot('healthy');
  it('completes drafts with id, layer, title; default remediation on problems only', () => {
    const c = meta('host.t.t', 'host', 'T', 'do it', [
      { status: 'fail', node: 'nd2', detail: 'broken' },
      { status: 'pass', node: 'nd1', detail: 'fine' },
    ]);
    const fs = runChecks({ snapshot, probes: null }, {}, [c]);
    expect(fs).toEqual([
      {
        id: 'host.t.t',
        layer: 'host',
        status: 'fail',
        node: 'nd2',
        peer: null,
        network: null,
        title: 'T',
        messageId: 'row',
        detail: 'broken',
        remediation: 'do it',
      },
      {
        id: 'host.t.t',
        layer: 'host',
        status: 'pass',
        node: 'nd1',
        peer: null,
        network: null,
        title: 'T',
        messageId: 'row',
        detail: 'fine',
        remediation: '',
      },
    ]);
    expect(summarise(fs)).toEqual({ pass: 1, warn: 0, fail: 1, skip: 0, error: 0 });
  });

  it('turns a throwing check into an error finding and goes on', () => {
    const bad = defineCheck({
      meta: { id: 'host.bad.bad', layer: 'host', title: 'B', looksAt: 'l', remediation: 'r', failures: [], scope: 'cluster', messages: {} },
      check: () => {
        throw new Error('boom');
      },
    });
    const good = meta('host.good.good', 'host', 'G', 'r');
    const fs = runChecks({ snapshot, probes: null }, {}, [bad, good]);
    expect(fs.map((f) => [f.id, f.status, f.detail])).toEqual([
      ['host.bad.bad', 'error', 'check failed to run: boom'],
      ['host.good.good', 'pass', 'nothing to report'],
    ]);
  });

  it('narrows findings to --node and --network', () => {
    const c = meta('overlay.t.t', 'overlay', 'T', 'r', [
      { status: 'fail', node: 'nd2', network: 'ndnet', detail: 'a' },
      { status: 'fail', node: 'nd3', network: 'ingress', detail: 'b' },
      { status: 'fail', detail: 'cluster-wide' },
    ]);
    expect(runChecks({ snapshot, probes: null }, { nodes: ['nd2'] }, [c]).map((f) => f.detail)).toEqual(['a', 'cluster-wide']);
    expect(runChecks({ snapshot, probes: null }, { networks: ['ingress'] }, [c]).map((f) => f.detail)).toEqual(['b', 'cluster-wide']);
  });
});
