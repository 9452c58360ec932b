import { describe, expect, it } from 'vitest';
import check from '../../../../src/checks/overlay/networkdb-views.js';
import { parseViews } from '../../../../src/model/ctlplane.js';
import { checkTester } from '../../../support/check-tester.js';
import type { ClusterSnapshot } from '../../../../src/snapshot/types.js';
import { editSection, nodeIn, recording } from './support.js';

type J = Record<string, any>;

/** `node`'s own view of ndnet without the endpoint named `name` (a regex source: `web\\.3\\.[0-9a-z]+`): one the node never heard of. */
function lacks(s: ClusterSnapshot, node: string, name: string): ClusterSnapshot {
  const ep = new RegExp(`,?\\{"EndpointID":"[0-9a-f]+","EndpointIP":"[0-9.]+","Info":\\{"Host IP":"[0-9.]+"\\},"Name":"${name}"\\}`);
  return editSection(s, node, 'host/network-views', (text) =>
    text
      .split('\n')
      .map((line) => (line.includes('"Name":"ndnet"') ? line.replace(ep, '').replace('[,', '[') : line))
      .join('\n'),
  );
}

/** `node`'s own view of ndnet with one more endpoint of `service` (as 26 prints one), after its first one. */
function lists(s: ClusterSnapshot, node: string, service: string, name: string, ip: string, hostIp: string): ClusterSnapshot {
  const ep = `{"EndpointID":"${'e'.repeat(64)}","EndpointIP":"${ip}","Info":{"Host IP":"${hostIp}"},"Name":"${name}"}`;
  return editSection(s, node, 'host/network-views', (text) =>
    text
      .split('\n')
      .map((line) => {
        if (!line.includes('"Name":"ndnet"')) return line;
        const j = JSON.parse(line) as J;
        (j.Services[service].Tasks as J[]).push(JSON.parse(ep) as J);
        return JSON.stringify(j);
      })
      .join('\n'),
  );
}

/** The recording's manager clock when it answered (`docker info` SystemTime), ms. */
const answeredAt = (s: ClusterSnapshot): number => Date.parse(String((s.cluster.raw.info as J).SystemTime));
const serviceJson = (s: ClusterSnapshot, name: string): J => (s.cluster.raw.services as J[]).find((x) => x.Spec.Name === name)!;
const taskJson = (s: ClusterSnapshot, id: string): J => (s.cluster.raw.tasks as J[]).find((t) => String(t.ID).startsWith(id))!;

/** nd2's own view without the task web.3 (on nd1): a task nd2 never heard of. */
const nd2LacksWeb3 = () => lacks(recording('ctlplane'), 'nd2', 'web\\.3\\.[0-9a-z]+');

checkTester(check, {
  valid: [
    {
      name: 'the healthy lab: nd1, nd2 and nd3 list the same peers, VIPs and tasks',
      snapshot: () => recording('ctlplane'),
      skips: [],
      passes: [
        { status: 'pass', messageId: 'agree', network: 'ndnet' },
        { status: 'pass', messageId: 'agree', network: 'ingress' },
      ],
    },
    {
      name: 'a node whose docker CLI is missing is skipped with its own words; the others still agree',
      snapshot: () => {
        const s = recording('ctlplane');
        Object.assign(nodeIn(s, 'nd3').raw['host/network-views']!, { stdout: '', stderr: 'docker: command not found\n', rc: 127 });
        return s;
      },
      skips: [{ status: 'skip', messageId: 'unread', node: 'nd3' }],
    },
    {
      name: 'a rolling update caught half-way (recorded): the endpoints of roll, updating, are left out; web and the peers agree',
      snapshot: () => recording('ctlplane-rollout'),
      passes: [
        { status: 'pass', messageId: 'agree', network: 'ndnet' },
        { status: 'pass', messageId: 'agree', network: 'ingress' },
      ],
    },
    {
      name: "the rollout's old task (desired shutdown, still running) already gone from nd1's view: changing, not a split",
      snapshot: () => lacks(recording('ctlplane-rollout'), 'nd1', 'roll\\.2\\.bgyszkh0[0-9a-z]+'),
      passes: [{ status: 'pass', messageId: 'agree', network: 'ndnet' }],
    },
    {
      name: 'web.3 missing from nd2 three seconds after it started (the ctlplane recording): changing, not a split',
      snapshot: nd2LacksWeb3,
      passes: [{ status: 'pass', messageId: 'agree', network: 'ndnet' }],
    },
    {
      name: "a scale-up: nd1 lists web.4, a task the manager's list does not know yet, of web updated 2 s before the collection",
      snapshot: () => {
        const s = lists(recording('ctlplane-rollout'), 'nd1', 'web', 'web.4.zzzzzzzzzzzzzzzzzzzzzzzzz', '10.0.1.20', '10.213.0.11');
        serviceJson(s, 'web').UpdatedAt = new Date(answeredAt(s) - 2_000).toISOString();
        return s;
      },
      passes: [{ status: 'pass', messageId: 'agree', network: 'ndnet' }],
    },
  ],
  invalid: [
    {
      name: 'gossip cut on nd3 (recorded): nd3 lacks late and web.1, nd1 and nd2 lack nd3 and its task',
      snapshot: () => recording('ctlplane-diverged'),
      errors: [
        { status: 'fail', messageId: 'differ', network: 'ndnet', node: null },
        { status: 'fail', messageId: 'differ', network: 'ingress', node: null },
      ],
    },
    {
      name: 'one task missing from nd2 only, a minute after it started: nd2 is named',
      snapshot: () => {
        const s = nd2LacksWeb3();
        for (const t of s.cluster.raw.tasks as J[]) t.Status.Timestamp = new Date(Date.parse(t.Status.Timestamp) - 60_000).toISOString();
        return s;
      },
      errors: [{ status: 'fail', messageId: 'differ', network: 'ndnet', node: 'nd2' }],
    },
    {
      name: 'during the rollout (recorded), web.2, running for 20 s, missing from nd3: a split all the same',
      snapshot: () => lacks(recording('ctlplane-rollout'), 'nd3', 'web\\.2\\.[0-9a-z]+'),
      errors: [{ status: 'fail', messageId: 'differ', network: 'ndnet', node: 'nd3' }],
    },
    {
      name: "the same with nd2's clock an hour behind: a skewed node clock is not taken as the collection's time (everything would look recent)",
      snapshot: () => {
        const s = lacks(recording('ctlplane-rollout'), 'nd3', 'web\\.2\\.[0-9a-z]+');
        nodeIn(s, 'nd2').host!.clock!.node -= 3600;
        return s;
      },
      errors: [{ status: 'fail', messageId: 'differ', network: 'ndnet', node: 'nd3' }],
    },
    {
      name: "a leftover: nd2 still lists web.1.<an old id> the manager's list no longer has, while web.1 runs settled",
      snapshot: () => lists(recording('ctlplane-rollout'), 'nd2', 'web', 'web.1.oooooooooooooooooooooooooo', '10.0.1.30', '10.213.0.11'),
      errors: [{ status: 'fail', messageId: 'differ', network: 'ndnet', node: 'nd2' }],
    },
    {
      name: 'a task shut down a minute before the collection still listed by nd2',
      snapshot: () => {
        const s = lists(recording('ctlplane-rollout'), 'nd2', 'web', 'web.2.ssssssssssssssssssssssssss', '10.0.1.31', '10.213.0.13');
        const old = structuredClone(taskJson(s, '15d5vfyj'));
        Object.assign(old, { ID: 'ssssssssssssssssssssssssss', DesiredState: 'shutdown' });
        Object.assign(old.Status, { State: 'shutdown', Timestamp: new Date(answeredAt(s) - 60_000).toISOString() });
        (s.cluster.raw.tasks as J[]).push(old);
        return s;
      },
      errors: [{ status: 'fail', messageId: 'differ', network: 'ndnet', node: 'nd2' }],
    },
  ],
});

describe('overlay.networkdb.views wording', () => {
  it('says how many endpoints changing during the collection were not compared', async () => {
    const { runCheck } = await import('../../../support/check-tester.js');
    const rollout = runCheck(check, { name: 'rollout', snapshot: () => recording('ctlplane-rollout') });
    expect(rollout.find((f) => f.network === 'ndnet')!.detail).toMatch(/6 endpoints; 3 endpoints changing during the collection were not compared$/);
    // ingress: nothing of roll there, web settled: everything compared.
    expect(rollout.find((f) => f.network === 'ingress')!.detail).not.toContain('not compared');
    const split = runCheck(check, { name: 'split', snapshot: () => lacks(recording('ctlplane-rollout'), 'nd3', 'web\\.2\\.[0-9a-z]+') });
    const f = split.find((x) => x.status === 'fail')!;
    expect(f.detail).toMatch(/^the nodes disagree on ndnet: nd3 lacks task web\.2\./);
    expect(f.detail).toContain('3 endpoints changing during the collection were not compared');
  });

  it('compares everything once the rollout is over: the same views with roll settled for a minute', async () => {
    const { runCheck } = await import('../../../support/check-tester.js');
    const s = lacks(recording('ctlplane-rollout'), 'nd1', 'roll\\.2\\.bgyszkh0[0-9a-z]+');
    const roll = serviceJson(s, 'roll');
    delete roll.UpdateStatus;
    roll.UpdatedAt = roll.CreatedAt;
    for (const t of s.cluster.raw.tasks as J[]) t.Status.Timestamp = new Date(Date.parse(t.Status.Timestamp) - 60_000).toISOString();
    const f = runCheck(check, { name: 'settled', snapshot: () => s }).find((x) => x.network === 'ndnet')!;
    // The old task is still shutting down (desired shutdown, running): that one stays out, nd1 is not blamed for it.
    expect(f.status).toBe('pass');
    expect(f.detail).toContain('1 endpoint changing during the collection was not compared');
  });

  it('names what the out-of-step node lacks, from the recorded split', async () => {
    const { runCheck } = await import('../../../support/check-tester.js');
    const f = runCheck(check, { name: 'split', snapshot: () => recording('ctlplane-diverged') }).find(
      (x) => x.status === 'fail' && x.network === 'ndnet',
    )!;
    expect(f.detail).toMatch(/nd3 lacks [^;]*VIP 10\.0\.1\.\d+ of late/);
    expect(f.detail).toMatch(/nd3 lacks [^;]*task late\./);
    expect(f.detail).toMatch(/nd1 lacks peer nd3 \(10\.213\.0\.13\)/);
    expect(f.remediation).toContain('`docker network inspect --verbose ndnet`');
  });

  it('parses the recorded lines and warns on a line that is not JSON', () => {
    const text = nodeIn(recording('ctlplane'), 'nd1').raw['host/network-views']!.stdout;
    const { value, warnings } = parseViews(`${text}\nnot json\n`);
    const ndnet = [...value.values()].find((v) => v.name === 'ndnet')!;
    expect(ndnet.peers.map((p) => p.ip).sort()).toEqual(['10.213.0.11', '10.213.0.12', '10.213.0.13']);
    expect(ndnet.services.find((s) => s.name === 'web')!.endpoints.map((e) => e.taskId?.length)).toEqual([25, 25, 25]);
    expect(warnings).toEqual(['unreadable line: not json']);
  });
});
