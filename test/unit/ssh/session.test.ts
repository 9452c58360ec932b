// Pure unit tests of src/ssh/session.ts: nothing here talks to a server.
// Everything that needs sshd runs against the lab's real OpenSSH in
// test/e2e/ssh.test.ts.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { hostKeyAlgorithms, shellQuote, sudoFailure, sudoWrap, withPgidReport } from '../../../src/ssh/session.js';

describe('host keys', () => {
  it('orders host key algorithms by what known_hosts holds', () => {
    expect(hostKeyAlgorithms(['ssh-rsa'])[0]).toBe('rsa-sha2-512');
    expect(hostKeyAlgorithms(['ecdsa-sha2-nistp256']).slice(0, 2)).toEqual(['ecdsa-sha2-nistp256', 'ssh-ed25519']);
    expect(hostKeyAlgorithms([])[0]).toBe('ssh-ed25519');
  });
});

describe('sudo helpers', () => {
  it('wraps for non-root users only, quoting for sh', () => {
    expect(sudoWrap('ip -j addr', 'root')).toBe('ip -j addr');
    const wrapped = sudoWrap(`echo "it's" $HOME`, 'admin');
    expect(wrapped).toBe(`sudo -n sh -c 'echo "it'\\''s" $HOME'`);
    // the quoted part survives a real shell unchanged
    expect(execFileSync('sh', ['-c', `printf '%s' ${shellQuote(`echo "it's" $HOME`)}`], { encoding: 'utf8' })).toBe(`echo "it's" $HOME`);
  });

  it('detects sudo asking for a password', () => {
    const e = sudoFailure({ stderr: 'sudo: a password is required\n', code: 1 }, 'admin', 'admin@10.0.0.1');
    expect(e?.kind).toBe('sudo-password');
    expect(e?.endpoint).toBe('admin@10.0.0.1');
    expect(sudoFailure({ stderr: '', code: 0 }, 'admin')).toBeNull();
    expect(sudoFailure({ stderr: 'other failure', code: 1 }, 'admin')).toBeNull();
  });

  it('withPgidReport reports the process group first on stderr and keeps the command intact', () => {
    const out = execFileSync('sh', ['-c', `${withPgidReport('echo "a\'b" x; exit 0')} 2>&1`], { encoding: 'utf8' });
    expect(out).toMatch(/^@@netdoctor-pgid=\d+\na'b x\n$/);
  });
});
