/**
 * Encrypted overlays on the real lab. This kernel refuses Docker's AEAD SAs
 * (dockerd logs "Failed adding fSA"), but libnetwork still programs its IPsec
 * security policies, and it does so in the host namespace: the proof that
 * netdoctor reads IPsec where dockerd writes it, and a real run of
 * overlay.encryption.policy-port on the policies of a real engine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labUp, nodeDocker, nodeExec, encryptedServiceUp, removeServiceAndNetwork } from '../lab/lab.js';
import type { Report } from '../../src/report/model.js';
import { check } from './support/netdoctor.js';

const NET = 'ndsec';
const SVC = 'secweb';
const brief = (r: Report, id: string) =>
  r.findings
    .filter((f) => f.id === id)
    .map((f) => `${f.status} ${f.messageId} ${f.node ?? '-'}→${f.peer ?? '-'}: ${f.detail}`)
    .join('\n');

beforeAll(async () => {
  await labUp();
  // Wait until two nodes run a task (the sandboxes, and the policies toward each other, exist then).
  await encryptedServiceUp(NET, SVC, 2);
}, 120_000);

afterAll(async () => {
  await removeServiceAndNetwork(SVC, NET);
}, 60_000);

describe('encrypted overlay on the lab', () => {
  it("dockerd's IPsec policies are in the host namespace of the task nodes, not in their overlay sandboxes", async () => {
    const ps = await nodeDocker('nd1', ['service', 'ps', '--filter', 'desired-state=running', '--format', '{{.Node}}', SVC]);
    const nodes = [...new Set(ps.stdout.split('\n').filter(Boolean))];
    expect(nodes.length, ps.stdout).toBe(2);
    for (const n of nodes) {
      const host = await nodeExec(n, 'ip xfrm policy');
      expect(host.stdout, `${n}: host namespace`).toContain('mark 0xd0c4e3/0xffffffff');
      const sandboxes = await nodeExec(n, 'for f in /var/run/docker/netns/1-*; do nsenter --net="$f" ip xfrm policy; done');
      expect(sandboxes.code, sandboxes.stderr).toBe(0);
      expect(sandboxes.stdout, `${n}: overlay sandboxes`).not.toContain('0xd0c4e3');
    }
  });

  it('netdoctor reads them there: policy-port passes on real policies (udp/4789), with the count', async () => {
    const { report } = await check(['--no-probe', '--only', 'overlay.encryption']);
    const rows = report.findings.filter((f) => f.id === 'overlay.encryption.policy-port');
    const match = rows.filter((f) => f.status === 'pass' && f.messageId === 'match');
    expect(match.length, brief(report, 'overlay.encryption.policy-port')).toBeGreaterThan(0);
    expect(match[0]!.detail).toContain('udp/4789');
    expect(
      rows.filter((f) => f.status === 'skip'),
      brief(report, 'overlay.encryption.policy-port'),
    ).toEqual([]);
  }, 120_000);
});
