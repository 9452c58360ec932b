/**
 * The gate's verdict on the lab recording: the whole check engine with a
 * stack, judged (only what the stack depends on blocks), and its GitHub
 * Actions rendering.
 */
import { describe, expect, it } from 'vitest';
import { runChecks } from '../../../src/checks/runner.js';
import type { Finding } from '../../../src/checks/types.js';
import { buildModel } from '../../../src/model/build.js';
import { buildStackModel, type StackModel } from '../../../src/model/stack.js';
import { buildReport } from '../../../src/report/model.js';
import { renderGithub } from '../../../src/report/render.js';
import { judge, notBlocking } from '../../../src/run/gate.js';
import { normaliseStack } from '../../../src/stack/normalise.js';
import { labSnapshot } from '../../support/lab-fixtures.js';
import { stackPlanner } from '../../support/stack-fixtures.js';

const snap = labSnapshot();
const gate = async (config: string): Promise<{ findings: Finding[]; plan: StackModel }> => {
  const plan = (await stackPlanner(config))(snap);
  return { plan, findings: judge(runChecks(buildModel(snap, plan), { stack: true }), plan) };
};
const blocking = (fs: Finding[]) => fs.filter((f) => f.status === 'fail' || f.status === 'error');
const finding = (over: Partial<Finding>): Finding => ({
  id: 'underlay.vxlan.udp-4789',
  layer: 'underlay',
  status: 'fail',
  node: null,
  peer: null,
  network: null,
  title: 't',
  messageId: 'm',
  detail: 'd',
  remediation: 'r',
  ...over,
});
const planOf = (yaml: string): StackModel => buildStackModel(normaliseStack(yaml, 'app', []), snap.cluster, { locate: () => null });

describe('the verdict on the lab recording (no IPVS, no XFRM)', () => {
  it('lets a dnsrr stack on a fresh overlay with no published port through, the missing IPVS a warning that says why', async () => {
    const { findings } = await gate('go');
    expect(blocking(findings).map((f) => `${f.id} ${f.detail}`)).toEqual([]);
    const ipvs = findings.filter((f) => f.id === 'service.ingress.ipvs-available');
    expect(ipvs.length).toBeGreaterThan(0);
    for (const f of ipvs) {
      expect(f.status).toBe('warn');
      expect(f.detail).toContain('does not block this stack');
    }
  });

  it('stops a stack that publishes in ingress mode, on the routing mesh', async () => {
    const ids = new Set(blocking((await gate('ingress')).findings).map((f) => f.id));
    expect(ids).toContain('stack.ports.mesh');
    expect(ids).toContain('service.ingress.ipvs-available');
  });

  for (const [config, id] of [
    ['subnet-underlay', 'stack.network.subnet'],
    ['port-web', 'stack.ports.conflict'],
    ['host-port', 'stack.ports.conflict'],
    ['constraint', 'stack.placement.feasible'],
    ['max-replicas', 'stack.placement.feasible'],
    ['encrypted', 'stack.network.encrypted'],
    ['external', 'stack.network.external'],
  ] as const) {
    it(`stops ${config} with ${id}`, async () => {
      expect(blocking((await gate(config)).findings).map((f) => f.id)).toContain(id);
    });
  }
});

describe('notBlocking', () => {
  const onNd1 = planOf('services: {a: {image: x, deploy: {endpoint_mode: dnsrr, placement: {constraints: ["node.hostname==nd1"]}}}}');
  const meshed = planOf('services: {a: {image: x, ports: [{target: 80, published: 80, mode: ingress}]}}');

  it('does not block on a node or peer the stack cannot run on', () => {
    expect(notBlocking(finding({ node: 'nd2' }), onNd1)).toContain('nd2 is not a node the stack can run on');
    expect(notBlocking(finding({ node: 'nd1', peer: 'nd3' }), onNd1)).toContain('nd3 is not a node');
    expect(notBlocking(finding({ node: 'nd1' }), onNd1)).toBeNull();
  });

  it('does not block on a network the stack does not join; ingress only when it publishes there', () => {
    expect(notBlocking(finding({ network: 'ndnet' }), onNd1)).toContain('does not join ndnet');
    expect(notBlocking(finding({ network: 'app_default' }), onNd1)).toBeNull();
    expect(notBlocking(finding({ network: 'ingress' }), onNd1)).toContain('does not join ingress');
    expect(notBlocking(finding({ network: 'ingress' }), meshed)).toBeNull();
  });

  it('does not block on the routing mesh when nothing is published in ingress mode', () => {
    expect(notBlocking(finding({ id: 'service.ingress.ipvs-available', node: 'nd1' }), onNd1)).toContain('publishes no port in ingress mode');
    expect(notBlocking(finding({ id: 'service.ingress.ipvs-available', node: 'nd1' }), meshed)).toBeNull();
  });

  it("does not block on dockerd's IPVS or IPsec lines when the stack uses neither", () => {
    expect(notBlocking(finding({ id: 'log.lb.ipvs', node: 'nd1' }), onNd1)).toContain('uses no IPVS');
    expect(notBlocking(finding({ id: 'log.lb.ipvs', node: 'nd1' }), meshed)).toBeNull();
    expect(notBlocking(finding({ id: 'log.encryption.sa', node: 'nd1' }), onNd1)).toContain('no encrypted network');
  });

  it('leaves the stack layer and non-failures as they are', () => {
    const fs = [
      finding({ id: 'stack.ports.conflict', layer: 'stack', node: 'nd2' }),
      finding({ status: 'warn', node: 'nd2' }),
      finding({ node: 'nd2' }),
    ];
    expect(judge(fs, onNd1).map((f) => f.status)).toEqual(['fail', 'warn', 'warn']);
    expect(judge(fs, onNd1)[2]!.detail).toBe('d (does not block this stack: nd2 is not a node the stack can run on)');
  });
});

describe('--format github', () => {
  const report = (fs: Finding[]) => buildReport(snap, fs, '0.0.0-test', new Date(0), 1);

  it('annotates the file and line, escaping data and properties as workflow commands require', () => {
    const out = renderGithub(
      report([
        finding({
          id: 'stack.ports.conflict',
          layer: 'stack',
          service: 'app_web',
          detail: '100% taken\nreally',
          remediation: 'a: b',
          location: { file: 'deploy/a,b:c.yml', line: 14 },
        }),
        finding({ status: 'warn', node: 'nd2', detail: 'w\r' }),
        finding({ status: 'pass' }),
      ]),
    ).split('\n');
    expect(out[0]).toBe('::error file=deploy/a%2Cb%3Ac.yml,line=14,title=stack.ports.conflict (service app_web)::100%25 taken%0Areally%0Afix: a: b');
    expect(out[1]).toBe('::warning title=underlay.vxlan.udp-4789 (nd2)::w%0D%0Afix: r');
    expect(out[2]).toBe('::notice title=docker netdoctor::1 failed, 1 warnings, 0 errors, 1 passed, 0 skipped');
    expect(out).toHaveLength(4);
  });
});
