/**
 * The log layer against the real lab: dockerd's own lines, produced by real
 * events (nothing appended to a file). The lab kernel has no IPVS, so dockerd
 * really logs "Could not get ipvs family information"; udp/7946 dropped on
 * one node makes memberlist on the others really suspect it.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { labUp, nodeExec } from '../lab/lab.js';
import type { Finding } from '../../src/checks/types.js';
import type { Report } from '../../src/report/model.js';
import { check } from './support/netdoctor.js';

const describeFindings = (r: Report) =>
  r.findings
    .filter((f) => f.status !== 'pass')
    .map((f) => `${f.status} ${f.id} ${f.node ?? '-'}→${f.peer ?? '-'} ${f.network ?? '-'}: ${f.detail}`)
    .join('\n');
const logFindings = (r: Report, pred: (f: Finding) => boolean) => r.findings.filter((f) => f.layer === 'log' && pred(f));

beforeAll(async () => {
  await labUp();
});

describe('the log layer on the lab', () => {
  it("reads every node's dockerd log and names the missing IPVS from dockerd's own line", async () => {
    const { report } = await check(['--no-probe', '--only', 'log']);
    const unread = logFindings(report, (f) => f.status === 'skip' && f.id === 'log.lb.ipvs');
    expect(unread, describeFindings(report)).toEqual([]);
    const ipvs = logFindings(report, (f) => f.id === 'log.lb.ipvs' && f.status === 'fail');
    expect(ipvs.length, describeFindings(report)).toBeGreaterThan(0);
    expect(ipvs[0]!.detail).toContain('could not use IPVS');
  });

  it('udp/7946 dropped on nd3: memberlist on another node suspects nd3, named by node', async () => {
    const rule = 'INPUT -p udp --dport 7946 -j DROP';
    const add = await nodeExec('nd3', `iptables -I ${rule}`);
    expect(add.code, add.stderr).toBe(0);
    try {
      let found: Finding[] = [];
      let last: Report | undefined;
      // memberlist probes a random member every second; give it up to ~60 s to reach nd3 and log.
      for (let i = 0; i < 6 && found.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 10_000));
        last = (await check(['--no-probe', '--only', 'log.gossip'])).report;
        found = logFindings(last, (f) => f.status !== 'pass' && f.status !== 'skip' && f.peer === 'nd3' && f.node !== 'nd3');
      }
      expect(found.length, last ? describeFindings(last) : 'no report').toBeGreaterThan(0);
      expect(found.map((f) => f.id).some((id) => ['log.gossip.udp-blocked', 'log.gossip.flapping'].includes(id))).toBe(true);
    } finally {
      await nodeExec('nd3', `iptables -D ${rule}`);
    }
  }, 120_000);
});
