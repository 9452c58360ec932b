/**
 * Placement constraints as swarmkit's manager/constraint evaluates them,
 * against the lab's recorded node list (Engine API answers).
 */
import { describe, expect, it } from 'vitest';
import { nodeMatches, parseConstraint, placementNodes, type Constraint, type PlacementNode } from '../../../src/stack/placement.js';
import { recordedCluster } from '../../support/lab-fixtures.js';

type RawNode = { Description: { Hostname: string; Engine: { Labels?: Record<string, string> } }; Spec: { Labels: Record<string, string> } };

function nodes(mutate: (raw: RawNode[]) => void = () => {}): PlacementNode[] {
  const raw = structuredClone(recordedCluster('healthy').nodes as RawNode[]);
  mutate(raw);
  return placementNodes(raw);
}

const c = (text: string): Constraint => {
  const p = parseConstraint(text);
  if ('error' in p) throw new Error(p.error);
  return p;
};
const where = (ns: PlacementNode[], ...texts: string[]) =>
  ns
    .filter((n) => nodeMatches(texts.map(c), n))
    .map((n) => n.hostname)
    .sort();

describe('placementNodes', () => {
  it('reads the recorded lab nodes', () => {
    const ns = nodes();
    expect(ns.map((n) => [n.hostname, n.role, n.addr, n.os, n.arch, n.ready, n.active]).sort()).toEqual([
      ['nd1', 'manager', '10.213.0.11', 'linux', 'x86_64', true, true],
      ['nd2', 'worker', '10.213.0.12', 'linux', 'x86_64', true, true],
      ['nd3', 'worker', '10.213.0.13', 'linux', 'x86_64', true, true],
    ]);
  });
});

describe('constraints', () => {
  const labelled = () =>
    nodes((raw) => {
      raw.find((n) => n.Description.Hostname === 'nd2')!.Spec.Labels = { Zone: 'East', disk: 'ssd' };
      raw.find((n) => n.Description.Hostname === 'nd3')!.Description.Engine.Labels = { tier: 'edge' };
    });

  it('compares values case-insensitively', () => {
    expect(where(nodes(), 'node.role == MANAGER')).toEqual(['nd1']);
    expect(where(nodes(), 'node.hostname==ND3')).toEqual(['nd3']);
    expect(where(labelled(), 'node.labels.Zone==east')).toEqual(['nd2']);
  });

  it('compares label names case-sensitively, the key prefix not', () => {
    expect(where(labelled(), 'node.labels.zone==east')).toEqual([]);
    expect(where(labelled(), 'NODE.LABELS.Zone==east')).toEqual(['nd2']);
    expect(where(labelled(), 'engine.labels.tier==edge')).toEqual(['nd3']);
  });

  it('treats a missing label as empty: == matches nothing, != matches every node', () => {
    expect(where(labelled(), 'node.labels.disk==ssd')).toEqual(['nd2']);
    expect(where(labelled(), 'node.labels.disk!=ssd')).toEqual(['nd1', 'nd3']);
  });

  it('matches no node on an unknown key, whatever the operator', () => {
    expect(where(nodes(), 'node.zone==a')).toEqual([]);
    expect(where(nodes(), 'node.zone!=a')).toEqual([]);
    expect(where(nodes(), 'node.labels.==a')).toEqual([]);
  });

  it('matches node.ip by address and by prefix; a malformed one matches nothing', () => {
    expect(where(nodes(), 'node.ip==10.213.0.12')).toEqual(['nd2']);
    expect(where(nodes(), 'node.ip!=10.213.0.12')).toEqual(['nd1', 'nd3']);
    expect(where(nodes(), 'node.ip==10.213.0.0/24')).toEqual(['nd1', 'nd2', 'nd3']);
    expect(where(nodes(), 'node.ip!=10.213.0.0/24')).toEqual([]);
    expect(where(nodes(), 'node.ip==10.213.0')).toEqual([]);
  });

  it('ANDs every constraint', () => {
    expect(where(nodes(), 'node.role==worker', 'node.hostname!=nd2')).toEqual(['nd3']);
    expect(where(nodes(), 'node.platform.os==Linux', 'node.platform.arch==x86_64')).toEqual(['nd1', 'nd2', 'nd3']);
  });

  it('rejects what swarm rejects, with the reason', () => {
    const error = (text: string) => {
      const p = parseConstraint(text);
      return 'error' in p ? p.error : null;
    };
    expect(error('node.role=manager')).toContain('no == or !=');
    expect(error('1node==x')).toContain("key '1node' is invalid");
    expect(error('node.labels.a==b=c')).toContain("value 'b=c' is invalid");
    // `==` wins when both appear, as swarmkit splits on it first.
    expect(error('node.labels.a!=b==c')).toContain("key 'node.labels.a!=b' is invalid");
    expect(parseConstraint(' node.labels.a != b ')).toMatchObject({ key: 'node.labels.a', op: '!=', value: 'b' });
  });
});
