/**
 * host.node.reachable through the shared tester, and the one place its SSH
 * advice comes from (lib/ssh-advice.ts): each failed stage as collection
 * records it (messages as ssh2/sshd/sudo print them), a partial collection,
 * a swarm member this run did not try, and a bundle with a stage this
 * version does not know.
 */
import { describe, expect, it } from 'vitest';
import check from '../../../../src/checks/host/node-reachable.js';
import { sshAdvice, sshTest, stageOf, STAGE_TEXT } from '../../../../src/checks/host/lib/ssh-advice.js';
import { COLLECTION_STAGES } from '../../../../src/snapshot/types.js';
import { checkTester, runCheck } from '../../../support/check-tester.js';
import { lab, labWith, makeUnreachable, nodeOf } from '../../../support/lab-mutate.js';

const failedAt = (stage: string, message: string) => ({
  name: `nd2 fails at ${stage}`,
  snapshot: () => labWith((s) => makeUnreachable(s, 'nd2', stage, message)),
  errors: [{ status: 'fail' as const, messageId: 'failed', node: 'nd2' }],
});

checkTester(check, {
  valid: [
    {
      name: 'the lab: every node collected',
      snapshot: lab,
      passes: ['nd1', 'nd2', 'nd3'].map((node) => ({ status: 'pass' as const, messageId: 'collected', node })),
    },
    {
      name: 'a swarm member left out of the run (--node nd1 --node nd2)',
      snapshot: () =>
        labWith((s) => {
          s.nodes = s.nodes.filter((n) => n.name !== 'nd3');
        }),
      skips: [{ status: 'skip', messageId: 'notTried', node: 'nd3' }],
    },
  ],
  invalid: [
    failedAt('connect', 'connect ECONNREFUSED 10.213.0.12:22'),
    failedAt('timeout', 'Timed out while waiting for handshake'),
    failedAt('auth', 'All configured authentication methods failed'),
    failedAt('hostkey', 'host key for 10.213.0.12 is not known'),
    failedAt('sudo', 'sudo: a password is required'),
    failedAt('from-a-newer-netdoctor', 'something this version does not know'),
    {
      name: 'collection output ended early',
      snapshot: () =>
        labWith((s) => {
          const n = nodeOf(s, 'nd2');
          n.status = 'partial';
          n.errors = [{ stage: 'exec', kind: 'truncated', message: 'collection output ended early; the snapshot of this node is partial' }];
        }),
      errors: [{ status: 'warn', messageId: 'partial', node: 'nd2' }],
    },
  ],
});

describe('SSH advice, in one place', () => {
  const target = { host: '10.213.0.12', port: 22, user: 'root', via: [] as string[] };

  it('has words for every stage, and reads an unknown stage from a bundle as exec', () => {
    for (const st of COLLECTION_STAGES) expect(STAGE_TEXT[st]).not.toBe('');
    expect(stageOf({ stage: 'from-a-newer-netdoctor' as never })).toBe('exec');
    expect(stageOf({ stage: '__proto__' as never })).toBe('exec');
    expect(stageOf(undefined)).toBe('exec');
    expect(stageOf({ stage: 'hostkey' })).toBe('hostkey');
  });

  it('names the stage and gives the advice of the stage', () => {
    const fs = runCheck(check, { name: 'sudo', snapshot: () => labWith((s) => makeUnreachable(s, 'nd2', 'sudo', 'sudo: a password is required')) });
    const f = fs.find((x) => x.node === 'nd2')!;
    expect(f.detail).toContain(STAGE_TEXT.sudo);
    expect(f.remediation).toBe(sshAdvice('nd2', nodeOf(lab(), 'nd2').target, 'sudo'));
  });

  it('tests the path netdoctor took: jump hosts, port, user', () => {
    expect(sshTest({ host: '10.0.0.5', port: 2222, user: 'ops', via: ['admin@bastion:22'] })).toBe(
      'ssh -p 2222 -J admin@bastion:22 ops@10.0.0.5 true',
    );
  });

  it('clears a changed host key under the name known_hosts uses ([host]:port off port 22)', () => {
    expect(sshAdvice('nd2', target, 'hostkey')).toContain('`ssh-keygen -R 10.213.0.12`');
    expect(sshAdvice('nd2', { ...target, port: 2222 }, 'hostkey')).toContain("`ssh-keygen -R '[10.213.0.12]:2222'`");
  });

  it('quotes what comes from ssh_config or an inventory, and writes no sudoers line for an odd user name', () => {
    const odd = { host: 'nd2;reboot', port: 22, user: 'a b', via: ['x$(id)@j:22'] };
    expect(sshTest(odd)).toBe("ssh -p 22 -J 'x$(id)@j:22' 'a b@nd2;reboot' true");
    expect(sshAdvice('nd2', odd, 'sudo')).toContain('`<user> ALL=(root) NOPASSWD: /bin/sh`');
    expect(sshAdvice('nd2', target, 'sudo')).toContain('`root ALL=(root) NOPASSWD: /bin/sh`');
    expect(sshAdvice("it's", target, 'exec')).toContain("--node 'it'\\''s'");
  });
});
