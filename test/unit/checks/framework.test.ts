/**
 * The check framework: scopes, needs and the uniform skips, message
 * templates, and the per-file layout every check follows.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { REGISTRY } from '../../../src/checks/registry.js';
import { runChecks } from '../../../src/checks/runner.js';
import { defineCheck, LAYERS, type AnyCheck, type Need, type Scope } from '../../../src/checks/types.js';
import { lab, labWith, makeUnreachable, NDNET_SANDBOX, nodeOf, setSection, failed } from '../../support/lab-mutate.js';

const probe = (scope: Scope, needs: Need[] = []) =>
  defineCheck({
    meta: { id: 'host.t.t', layer: 'host', title: 'T', looksAt: 'l', remediation: 'r', failures: [], scope, needs, messages: { here: 'at {where}' } },
    check: (ctx) => {
      const c = ctx as { node?: { name: string }; peer?: { name: string }; network?: { name: string } };
      ctx.report('pass', 'here', { where: [c.node?.name, c.peer?.name, c.network?.name].filter(Boolean).join('/') || 'cluster' });
    },
  });

const rows = (c: AnyCheck, s = lab()) =>
  runChecks({ snapshot: s, probes: s.probes ?? null }, {}, [c]).map(
    (f) => `${f.status} ${f.messageId} ${f.node ?? '-'} ${f.peer ?? '-'} ${f.network ?? '-'}`,
  );

describe('scopes', () => {
  it('cluster: once', () => expect(rows(probe('cluster'))).toEqual(['pass here - - -']));
  it('node: once per collected node, one uniform skip for a node that was not collected', () => {
    const s = labWith((x) => makeUnreachable(x, 'nd3'));
    expect(rows(probe('node'), s)).toEqual(['pass here nd1 - -', 'pass here nd2 - -', 'skip skip.not-collected nd3 - -']);
  });
  it('pair: every ordered pair of collected nodes', () => {
    expect(rows(probe('pair'))).toEqual([
      'pass here nd1 nd2 -',
      'pass here nd1 nd3 -',
      'pass here nd2 nd1 -',
      'pass here nd2 nd3 -',
      'pass here nd3 nd1 -',
      'pass here nd3 nd2 -',
    ]);
  });
  it('network-node: each overlay network with a sandbox on each node; a missing sandbox where tasks run is a skip', () => {
    expect(rows(probe('network-node')).filter((r) => r.endsWith('ndnet'))).toEqual([
      'pass here nd1 - ndnet',
      'pass here nd2 - ndnet',
      'pass here nd3 - ndnet',
    ]);
    const s = labWith((x) => {
      const n = nodeOf(x, 'nd2');
      n.sandboxes = n.sandboxes.filter((sb) => sb.name !== NDNET_SANDBOX);
    });
    expect(rows(probe('network-node'), s)).toContain('skip skip.no-sandbox nd2 - ndnet');
  });
});

describe('needs', () => {
  it('probes: one skip for the check when no probes ran', () => expect(rows(probe('pair', ['probes']))).toEqual(['skip skip.no-probes - - -']));
  it('swarm: one skip when the endpoint is in no swarm', () => {
    const s = labWith((x) => {
      x.cluster.swarmId = null;
    });
    expect(rows(probe('node', ['swarm']), s)).toEqual(['skip skip.no-swarm - - -']);
  });
  it('section:<name>: a failed sandbox section skips that network on that node', () => {
    const s = labWith((x) => {
      nodeOf(x, 'nd1').raw[`netns/${NDNET_SANDBOX}/fdb`] = failed('RTNETLINK answers: Operation not permitted');
    });
    expect(rows(probe('network-node', ['section:fdb']), s)).toContain('skip skip.section-missing nd1 - ndnet');
  });
  it('sandbox-list: a node whose namespaces cannot be listed is skipped', () => {
    const s = labWith((x) => setSection(x, 'nd2', 'netns/list', failed('ls: /var/run/docker/netns: Permission denied', 2)));
    expect(rows(probe('node', ['sandbox-list']), s)).toContain('skip skip.no-sandbox-list nd2 - -');
  });
});

describe('messages', () => {
  it('an unknown message id or a missing value is an error finding (a bug in the check), never a crash', () => {
    const bad = defineCheck({
      meta: { id: 'host.t.t', layer: 'host', title: 'T', looksAt: 'l', remediation: 'r', failures: [], scope: 'cluster', messages: { a: '{x}' } },
      check: ({ report }) => report('fail', 'a', {}),
    });
    expect(runChecks({ snapshot: lab(), probes: null }, {}, [bad])[0]).toMatchObject({
      status: 'error',
      messageId: 'error.threw',
      detail: /no value for \{x\}/,
    });
  });
});

describe('every check in the registry', () => {
  const placeholders = (t: string) => [...t.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
  it('has metadata: a well-formed unique id, layer, title, looksAt, remediation, scope, messages', () => {
    const ids = new Set<string>();
    for (const c of REGISTRY) {
      expect(ids.has(c.meta.id), c.meta.id).toBe(false);
      ids.add(c.meta.id);
      expect(c.meta.id).toMatch(/^[a-z]+\.[a-z0-9-]+\.[a-z0-9-]+$/);
      expect(LAYERS).toContain(c.meta.layer);
      expect(c.meta.id.split('.')[0]).toBe(c.meta.layer);
      for (const field of [c.meta.title, c.meta.looksAt, c.meta.remediation]) expect(field.trim()).not.toBe('');
      for (const row of c.meta.failures) expect(row, c.meta.id).toBeGreaterThan(0);
      expect(Object.keys(c.meta.messages).length, c.meta.id).toBeGreaterThan(0);
      for (const t of Object.values<string>(c.meta.messages)) {
        expect(t.trim()).not.toBe('');
        expect(placeholders(t).every(Boolean)).toBe(true);
      }
      for (const dep of c.meta.causedBy ?? [])
        expect(
          REGISTRY.some((x) => x.meta.id === dep),
          `${c.meta.id} causedBy ${dep}`,
        ).toBe(true);
    }
  });

  it('lives in src/checks/<layer>/<topic>-<name>.ts, one check per file, listed in its layer index', () => {
    const root = new URL('../../../src/checks/', import.meta.url);
    for (const layer of LAYERS) {
      const dir = new URL(`${layer}/`, root);
      const files = readdirSync(dir).filter((f) => f.endsWith('.ts') && f !== 'index.ts' && !f.startsWith('lib'));
      const index = readFileSync(new URL('index.ts', dir), 'utf8');
      for (const f of files) {
        const text = readFileSync(new URL(f, dir), 'utf8');
        expect(text.match(/defineCheck\(/g)?.length ?? 0, `${layer}/${f}`).toBe(1);
        const id = /id: '([^']+)'/.exec(text)?.[1];
        expect(id, `${layer}/${f} declares an id`).toBeDefined();
        expect(`${id!.split('.')[1]}-${id!.split('.')[2]}.ts`, `${layer}/${f}`).toBe(f);
        expect(index, `${layer}/index.ts lists ${f}`).toContain(`./${f.replace(/\.ts$/, '.js')}`);
        expect(
          REGISTRY.some((c) => c.meta.id === id),
          `${id} is registered`,
        ).toBe(true);
      }
    }
  });

  it('reads only the model: no check touches raw sections', () => {
    const root = new URL('../../../src/checks/', import.meta.url);
    for (const layer of LAYERS) {
      // lib/ folders included: a layer's shared helpers read only the model too.
      for (const f of readdirSync(new URL(`${layer}/`, root), { recursive: true, encoding: 'utf8' }).filter((x) => x.endsWith('.ts'))) {
        const text = readFileSync(new URL(`${layer}/${f}`, root), 'utf8');
        expect(/\.raw\b|\braw\[/.test(text), `${layer}/${f} reads raw sections`).toBe(false);
      }
    }
  });
});

describe('applies, lb sandboxes and the ipvs need', () => {
  const NO_IPVS = 'skip.no-ipvs';
  it('applies(): a check with nothing to look at reports once, at cluster level, and visits no node', () => {
    const c = defineCheck({
      meta: {
        id: 'host.t.t',
        layer: 'host',
        title: 'T',
        looksAt: 'l',
        remediation: 'r',
        failures: [],
        scope: 'node',
        messages: { none: 'nothing here', here: 'at {n}' },
      },
      applies: ({ report }) => (report('pass', 'none'), false),
      check: ({ node, report }) => report('pass', 'here', { n: node.name }),
    });
    expect(rows(c)).toEqual(['pass none - - -']);
  });
  it("sandbox 'lb': the check reads the network's lb_ sandbox; noSandbox() speaks where there is none; the ipvs need skips per network", () => {
    const c = defineCheck({
      meta: {
        id: 'host.t.t',
        layer: 'host',
        title: 'T',
        looksAt: 'l',
        remediation: 'r',
        failures: [],
        scope: 'network-node',
        sandbox: 'lb',
        needs: ['ipvs'],
        messages: { sb: '{sb}', none: 'none' },
      },
      noSandbox: ({ report }) => report('warn', 'none', {}, { remediation: 'r' }),
      check: ({ sandbox, report }) => report('pass', 'sb', { sb: sandbox.name }),
    });
    // The lab kernel has no IPVS: every node with an lb_ sandbox skips, per network.
    expect(rows(c).filter((r) => r.endsWith('ndnet'))).toEqual(['nd1', 'nd2', 'nd3'].map((n) => `skip ${NO_IPVS} ${n} - ndnet`));
    const s = labWith((x) => {
      nodeOf(x, 'nd1').raw['netns/ingress_sbox/ipvs'] = { stdout: 'IP Virtual Server version 1.2.1 (size=4096)\n', stderr: '', rc: 0 };
      const nd2 = nodeOf(x, 'nd2');
      nd2.sandboxes = nd2.sandboxes.filter((sb) => sb.kind !== 'lb');
    });
    expect(rows(c, s).filter((r) => r.endsWith('ndnet'))).toEqual(['pass sb nd1 - ndnet', 'warn none nd2 - ndnet', `skip ${NO_IPVS} nd3 - ndnet`]);
  });
});
