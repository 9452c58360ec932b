import { describe, expect, it } from 'vitest';
import check from '../../../../src/checks/overlay/networkdb-views.js';
import { parseViews } from '../../../../src/model/ctlplane.js';
import { checkTester } from '../../../support/check-tester.js';
import { editSection, nodeIn, recording } from './support.js';

/** nd2's own view without the task web.3 (on nd1): a task nd2 never heard of. */
function nd2LacksWeb3() {
  return editSection(recording('ctlplane'), 'nd2', 'host/network-views', (text) =>
    text
      .split('\n')
      .map((line) =>
        line.includes('"Name":"ndnet"')
          ? line
              .replace(/,?\{"EndpointID":"[0-9a-f]+","EndpointIP":"[0-9.]+","Info":\{"Host IP":"[0-9.]+"\},"Name":"web\.3\.[0-9a-z]+"\}/, '')
              .replace('[,', '[')
          : line,
      )
      .join('\n'),
  );
}

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
      name: 'one task missing from nd2 only: nd2 is named',
      snapshot: nd2LacksWeb3,
      errors: [{ status: 'fail', messageId: 'differ', network: 'ndnet', node: 'nd2' }],
    },
  ],
});

describe('overlay.networkdb.views wording', () => {
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
