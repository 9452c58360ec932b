import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  appendKnownHost,
  fingerprintSha256,
  KnownHostsConflictError,
  keyTypeLabel,
  keyTypeOf,
  knownHostName,
  knownKeyTypes,
  loadKnownHosts,
  parseKnownHosts,
  verifyHostKey,
} from '../../../src/ssh/known-hosts.js';

let dir: string;
interface Key {
  type: string;
  b64: string;
  blob: Buffer;
  pubFile: string;
}
const keys: Record<string, Key> = {};

function keygen(name: string, type: string): Key {
  const f = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', name, '-f', f]);
  const [kt, b64] = readFileSync(`${f}.pub`, 'utf8').trim().split(/\s+/);
  return { type: kt!, b64: b64!, blob: Buffer.from(b64!, 'base64'), pubFile: `${f}.pub` };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'nd-kh-'));
  keys.a = keygen('a', 'ed25519');
  keys.b = keygen('b', 'ed25519');
  keys.c = keygen('c', 'ed25519');
  keys.ec = keygen('ec', 'ecdsa');
  keys.rsa = keygen('rsa', 'rsa');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const k = (n: string): Key => {
  const key = keys[n];
  if (!key) throw new Error(n);
  return key;
};

describe('fingerprints and key types', () => {
  it('matches ssh-keygen -l', () => {
    for (const n of ['a', 'ec', 'rsa']) {
      const out = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', k(n).pubFile], { encoding: 'utf8' });
      expect(out).toContain(fingerprintSha256(k(n).blob));
      expect(out).toContain(`(${keyTypeLabel(keyTypeOf(k(n).blob)!)})`);
    }
    expect(fingerprintSha256(k('a').blob)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });

  it('reads the type from the blob', () => {
    expect(keyTypeOf(k('a').blob)).toBe('ssh-ed25519');
    expect(keyTypeOf(k('ec').blob)).toBe('ecdsa-sha2-nistp256');
    expect(keyTypeOf(k('rsa').blob)).toBe('ssh-rsa');
    expect(keyTypeOf(Buffer.from('garbage'))).toBeNull();
  });

  it('formats [host]:port names like ssh', () => {
    expect(knownHostName('Node1.Example', 22)).toBe('node1.example');
    expect(knownHostName('10.0.0.1', 2222)).toBe('[10.0.0.1]:2222');
  });
});

describe('parseKnownHosts', () => {
  const text = () =>
    [
      '# a comment',
      '',
      `10.0.0.1,node1 ${k('a').type} ${k('a').b64} root@node1`,
      `[10.0.0.2]:2222 ${k('b').type} ${k('b').b64}`,
      `*.lab.example,!evil.lab.example ${k('c').type} ${k('c').b64}`,
      `node? ${k('ec').type} ${k('ec').b64}`,
      `@revoked * ${k('rsa').type} ${k('rsa').b64}`,
      `@cert-authority *.example.com ${k('a').type} ${k('a').b64}`,
      'just-one-field',
      `10.0.0.9 ssh-ed25519 !!!notbase64`,
      `10.0.0.9 ssh-rsa ${k('a').b64}`,
      `@bogus 10.0.0.9 ${k('a').type} ${k('a').b64}`,
      '10.0.0.9 1024 35 1234567',
      `|1|abc|def ${k('a').type} ${k('a').b64}`,
      '   ',
    ].join('\n');

  it('parses entries and reports malformed lines with line numbers', () => {
    const { entries, problems } = parseKnownHosts(text(), 'kh');
    expect(entries.map((e) => e.line)).toEqual([3, 4, 5, 6, 7, 8]);
    expect(entries[0]?.comment).toBe('root@node1');
    expect(entries[4]?.marker).toBe('revoked');
    expect(entries[5]?.marker).toBe('cert-authority');
    expect(problems.map((p) => p.line)).toEqual([9, 10, 11, 12, 13, 14]);
    expect(problems[2]?.reason).toMatch(/does not match/);
    expect(problems[3]?.reason).toMatch(/unknown marker/);
    expect(problems.every((p) => p.file === 'kh')).toBe(true);
  });

  it('verifies plain hosts, comma lists, [host]:port, wildcards and negation', () => {
    const { entries } = parseKnownHosts(text(), 'kh');
    expect(verifyHostKey(entries, '10.0.0.1', 22, k('a').blob)).toMatchObject({
      status: 'match',
      keyType: 'ssh-ed25519',
      lookupName: '10.0.0.1',
      matchedAt: { file: 'kh', line: 3 },
    });
    expect(verifyHostKey(entries, 'NODE1', 22, k('a').blob).status).toBe('match');
    // the port matters: 10.0.0.1:2200 is not 10.0.0.1
    expect(verifyHostKey(entries, '10.0.0.1', 2200, k('a').blob).status).toBe('unknown');
    expect(verifyHostKey(entries, '10.0.0.2', 2222, k('b').blob).status).toBe('match');
    expect(verifyHostKey(entries, '10.0.0.2', 22, k('b').blob).status).toBe('unknown');
    expect(verifyHostKey(entries, 'x.lab.example', 22, k('c').blob).status).toBe('match');
    expect(verifyHostKey(entries, 'evil.lab.example', 22, k('c').blob).status).toBe('unknown');
    expect(verifyHostKey(entries, 'node7', 22, k('ec').blob).status).toBe('match');
    expect(verifyHostKey(entries, 'node77', 22, k('ec').blob).status).toBe('unknown');
  });

  it('reports a different key of the same type as changed, another type as unknown', () => {
    const { entries } = parseKnownHosts(text(), 'kh');
    const changed = verifyHostKey(entries, '10.0.0.1', 22, k('b').blob);
    expect(changed.status).toBe('changed');
    expect(changed.fingerprint).toBe(fingerprintSha256(k('b').blob));
    expect(changed.conflicts).toEqual([{ file: 'kh', line: 3, fingerprint: fingerprintSha256(k('a').blob) }]);
    const other = verifyHostKey(entries, '10.0.0.1', 22, k('ec').blob);
    expect(other.status).toBe('unknown');
    expect(other.otherKeyTypes).toEqual(['ssh-ed25519']);
    expect(knownKeyTypes(entries, '10.0.0.1', 22)).toEqual(['ssh-ed25519']);
    expect(knownKeyTypes(entries, 'node1', 22)).toEqual(['ssh-ed25519', 'ecdsa-sha2-nistp256']); // node? matches too
  });

  it('refuses revoked keys and ignores cert-authority lines', () => {
    const { entries } = parseKnownHosts(text(), 'kh');
    expect(verifyHostKey(entries, 'anything', 22, k('rsa').blob)).toMatchObject({ status: 'revoked', matchedAt: { line: 7 } });
    // the CA line carries key a for *.example.com: not a host key
    expect(verifyHostKey(entries, 'www.example.com', 22, k('a').blob).status).toBe('unknown');
  });
});

describe('hashed entries (ssh-keygen -H)', () => {
  it('matches hosts hashed by the real ssh-keygen, including [host]:port', async () => {
    const file = join(dir, 'hashed');
    writeFileSync(
      file,
      [
        `10.213.0.12 ${k('a').type} ${k('a').b64}`,
        `[10.213.0.13]:2222 ${k('b').type} ${k('b').b64}`,
        `node3.example ${k('ec').type} ${k('ec').b64}`,
        '',
      ].join('\n'),
    );
    execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain('10.213.0.12');
    expect(text.split('\n').filter((l) => l.startsWith('|1|'))).toHaveLength(3);

    const { entries, problems } = await loadKnownHosts([file, join(dir, 'does-not-exist')]);
    expect(problems).toEqual([]);
    expect(entries.every((e) => e.names.kind === 'hashed')).toBe(true);
    expect(verifyHostKey(entries, '10.213.0.12', 22, k('a').blob).status).toBe('match');
    expect(verifyHostKey(entries, '10.213.0.12', 22, k('b').blob).status).toBe('changed');
    expect(verifyHostKey(entries, '10.213.0.13', 2222, k('b').blob).status).toBe('match');
    expect(verifyHostKey(entries, '10.213.0.13', 22, k('b').blob).status).toBe('unknown');
    expect(verifyHostKey(entries, 'NODE3.example', 22, k('ec').blob).status).toBe('match');
    expect(verifyHostKey(entries, '10.213.0.99', 22, k('a').blob).status).toBe('unknown');
  });
});

describe('appendKnownHost', () => {
  it('adds plain lines that OpenSSH finds, never replaces a changed key', async () => {
    const file = join(dir, 'sub', 'known_hosts');
    expect(await appendKnownHost(file, '10.213.0.12', 22, k('a').blob)).toBe('added');
    expect(await appendKnownHost(file, '10.213.0.12', 22, k('a').blob)).toBe('present');
    expect(await appendKnownHost(file, '10.213.0.12', 2222, k('b').blob)).toBe('added');
    expect(readFileSync(file, 'utf8')).toBe(`10.213.0.12 ${k('a').type} ${k('a').b64}\n[10.213.0.12]:2222 ${k('b').type} ${k('b').b64}\n`);
    // OpenSSH itself finds both
    expect(execFileSync('ssh-keygen', ['-F', '10.213.0.12', '-f', file], { encoding: 'utf8' })).toContain(k('a').b64);
    expect(execFileSync('ssh-keygen', ['-F', '[10.213.0.12]:2222', '-f', file], { encoding: 'utf8' })).toContain(k('b').b64);

    await expect(appendKnownHost(file, '10.213.0.12', 22, k('c').blob)).rejects.toBeInstanceOf(KnownHostsConflictError);
    // a key of another type is added next to the existing one, as ssh does
    expect(await appendKnownHost(file, '10.213.0.12', 22, k('ec').blob)).toBe('added');
    expect(readFileSync(file, 'utf8')).not.toContain(k('c').b64);
  });

  it('adds a newline to a file that lacks one and serialises concurrent appends', async () => {
    const file = join(dir, 'nonl');
    writeFileSync(file, `other ${k('a').type} ${k('a').b64}`);
    const hosts = ['h1', 'h2', 'h3', 'h4', 'h1'];
    const res = await Promise.all(hosts.map((h) => appendKnownHost(file, h, 22, k('b').blob)));
    expect(res).toEqual(['added', 'added', 'added', 'added', 'present']);
    const lines = readFileSync(file, 'utf8').split('\n');
    expect(lines).toHaveLength(6);
    expect(lines[5]).toBe('');
    expect(parseKnownHosts(readFileSync(file, 'utf8')).problems).toEqual([]);
  });
});
