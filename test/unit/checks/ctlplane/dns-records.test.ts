import { describe, expect, it } from 'vitest';
import check from '../../../../src/checks/service/dns-records.js';
import { parseDnsAnswers } from '../../../../src/model/ctlplane.js';
import { checkTester, runCheck } from '../../../support/check-tester.js';
import { nodeIn, recording } from './support.js';

const dnsSection = (s: ReturnType<typeof recording>, node: string) => {
  const n = nodeIn(s, node);
  const name = Object.keys(n.raw).find((k) => /^netns\/lb_[0-9a-z]+\/dns$/.test(k))!;
  return n.raw[name]!;
};

/** nd2's resolver still answering a task address nobody holds any more (a leaked record, #30134). */
function staleOnNd2() {
  const s = recording('ctlplane');
  const sec = dnsSection(s, 'nd2');
  sec.stdout = sec.stdout.replace(/^(tasks\.web rcode=0 .*)$/m, '$1 10.0.1.200');
  return s;
}

checkTester(check, {
  valid: [
    {
      name: "the healthy lab: every node's lb sandbox resolves web and tasks.web as the manager says",
      snapshot: () => recording('ctlplane'),
      passes: ['nd1', 'nd2', 'nd3'].map((node) => ({ status: 'pass' as const, messageId: 'agree', node, network: 'ndnet' })),
    },
    {
      name: 'a node without bash: skipped with its own words',
      snapshot: () => {
        const s = recording('ctlplane');
        Object.assign(dnsSection(s, 'nd3'), {
          stdout: '',
          stderr: 'bash, timeout (coreutils) or od missing: cannot query the embedded DNS\n',
          rc: 127,
        });
        return s;
      },
      skips: [{ status: 'skip', messageId: 'unread', node: 'nd3' }],
    },
  ],
  invalid: [
    {
      name: 'gossip cut on nd3 (recorded): nd3 has no record of late; nd1 and nd2 lost the task on nd3',
      snapshot: () => recording('ctlplane-diverged'),
      errors: [
        { status: 'fail', messageId: 'differ', node: 'nd3', network: 'ndnet' },
        { status: 'fail', messageId: 'differ', node: 'nd1', network: 'ndnet' },
        { status: 'fail', messageId: 'differ', node: 'nd2', network: 'ndnet' },
      ],
    },
    { name: 'a stale task address on nd2', snapshot: staleOnNd2, errors: [{ status: 'fail', messageId: 'differ', node: 'nd2', network: 'ndnet' }] },
    {
      name: "nd3's resolver answers nothing",
      snapshot: () => {
        const s = recording('ctlplane');
        const sec = dnsSection(s, 'nd3');
        sec.stdout = 'web timeout\ntasks.web timeout\n';
        return s;
      },
      errors: [{ status: 'warn', messageId: 'silent', node: 'nd3', network: 'ndnet' }],
    },
  ],
});

describe('service.dns.records wording', () => {
  it('names the missing service on the out-of-step node', () => {
    const f = runCheck(check, { name: 'split', snapshot: () => recording('ctlplane-diverged') }).find(
      (x) => x.status === 'fail' && x.node === 'nd3',
    )!;
    expect(f.detail).toMatch(/\blate: (no answer|NXDOMAIN), the manager has 10\.0\.1\.\d+/);
    expect(f.detail).toMatch(/tasks\.late: (no answer|NXDOMAIN)/);
  });

  it('parses answers, NXDOMAIN, timeouts and skips, and warns on anything else', () => {
    expect(parseDnsAnswers('web rcode=0 10.0.1.2\ntasks.x rcode=3\nlate timeout\nb skipped\nweird\n?? what')).toEqual({
      value: [
        { name: 'web', outcome: 'answer', rcode: 0, ips: ['10.0.1.2'] },
        { name: 'tasks.x', outcome: 'answer', rcode: 3, ips: [] },
        { name: 'late', outcome: 'timeout', rcode: null, ips: [] },
        { name: 'b', outcome: 'skipped', rcode: null, ips: [] },
      ],
      warnings: ['unreadable line: ?? what'],
    });
  });
});
