import { describe, expect, it } from 'vitest';
import { buildRegistry, REGISTRY, selectChecks } from '../../../src/checks/registry.js';
import { runChecks, summarise } from '../../../src/checks/runner.js';
import { defineCheck, LAYERS } from '../../../src/checks/types.js';
import { NetdoctorError } from '../../../src/errors.js';
import { labSnapshot } from '../../support/lab-fixtures.js';

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
    const c = defineCheck({ id: 'host.x.y', layer: 'host', title: 't', looksAt: 'l', remediation: 'r' }, () => []);
    expect(() => buildRegistry([[c], [c]])).toThrow(/duplicate check id host\.x\.y/);
  });
});

describe('selection', () => {
  const reg = [
    defineCheck({ id: 'overlay.fdb.missing', layer: 'overlay', title: 't', looksAt: 'l', remediation: 'r' }, () => []),
    defineCheck({ id: 'overlay.fdb.stale', layer: 'overlay', title: 't', looksAt: 'l', remediation: 'r' }, () => []),
    defineCheck({ id: 'host.sysctl.ip-forward', layer: 'host', title: 't', looksAt: 'l', remediation: 'r' }, () => []),
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
    const c = defineCheck({ id: 'host.t.t', layer: 'host', title: 'T', looksAt: 'l', remediation: 'do it' }, () => [
      { status: 'fail', node: 'nd2', detail: 'broken' },
      { status: 'pass', node: 'nd1', detail: 'fine' },
    ]);
    const fs = runChecks({ snapshot, probes: null }, {}, [c]);
    expect(fs).toEqual([
      { id: 'host.t.t', layer: 'host', status: 'fail', node: 'nd2', peer: null, network: null, title: 'T', detail: 'broken', remediation: 'do it' },
      { id: 'host.t.t', layer: 'host', status: 'pass', node: 'nd1', peer: null, network: null, title: 'T', detail: 'fine', remediation: '' },
    ]);
    expect(summarise(fs)).toEqual({ pass: 1, warn: 0, fail: 1, skip: 0, error: 0 });
  });

  it('turns a throwing check into an error finding and goes on', () => {
    const bad = defineCheck({ id: 'host.bad.bad', layer: 'host', title: 'B', looksAt: 'l', remediation: 'r' }, () => {
      throw new Error('boom');
    });
    const good = defineCheck({ id: 'host.good.good', layer: 'host', title: 'G', looksAt: 'l', remediation: 'r' }, () => []);
    const fs = runChecks({ snapshot, probes: null }, {}, [bad, good]);
    expect(fs.map((f) => [f.id, f.status, f.detail])).toEqual([
      ['host.bad.bad', 'error', 'check failed to run: boom'],
      ['host.good.good', 'pass', 'nothing to report'],
    ]);
  });

  it('narrows findings to --node and --network', () => {
    const c = defineCheck({ id: 'overlay.t.t', layer: 'overlay', title: 'T', looksAt: 'l', remediation: 'r' }, () => [
      { status: 'fail', node: 'nd2', network: 'ndnet', detail: 'a' },
      { status: 'fail', node: 'nd3', network: 'ingress', detail: 'b' },
      { status: 'fail', detail: 'cluster-wide' },
    ]);
    expect(runChecks({ snapshot, probes: null }, { nodes: ['nd2'] }, [c]).map((f) => f.detail)).toEqual(['a', 'cluster-wide']);
    expect(runChecks({ snapshot, probes: null }, { networks: ['ingress'] }, [c]).map((f) => f.detail)).toEqual(['b', 'cluster-wide']);
  });
});
