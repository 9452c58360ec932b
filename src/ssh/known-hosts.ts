/**
 * OpenSSH known_hosts files: parsing, host-key verification and
 * trust-on-first-use appends. Follows sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT":
 *
 *   [@marker] hostpatterns keytype base64-key [comment]
 *
 * - hostpatterns: a comma list of patterns (`*` and `?` wildcards, `!` negates:
 *   a line whose negated pattern matches never applies), or one hashed name
 *   `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`;
 * - the name looked up is the host as we connect to it, lower-cased, and for a
 *   port other than 22 `[host]:port` (that is also what gets hashed);
 * - `@revoked` marks a key that must never be accepted; `@cert-authority`
 *   lines hold CA keys for host certificates, which netdoctor does not use:
 *   they are parsed and ignored.
 *
 * Malformed lines are skipped and reported (file and line), never fatal: ssh
 * itself ignores them too.
 */
import { createHash, createHmac } from 'node:crypto';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export type KnownHostMarker = 'revoked' | 'cert-authority' | null;

export type KnownHostNames = { kind: 'hashed'; salt: Buffer; hash: Buffer } | { kind: 'patterns'; patterns: { pattern: string; negated: boolean }[] };

export interface KnownHostEntry {
  file: string;
  /** 1-based line number in `file`. */
  line: number;
  marker: KnownHostMarker;
  names: KnownHostNames;
  /** The key type written on the line (e.g. ssh-ed25519). */
  keyType: string;
  /** The raw public key blob (SSH wire format). */
  key: Buffer;
  comment?: string;
}

export interface KnownHostsProblem {
  file: string;
  /** 1-based; 0 when the whole file could not be read. */
  line: number;
  reason: string;
}

export interface KnownHosts {
  entries: KnownHostEntry[];
  problems: KnownHostsProblem[];
}

export type HostKeyStatus = 'match' | 'unknown' | 'changed' | 'revoked';

export interface HostKeyVerdict {
  status: HostKeyStatus;
  /** OpenSSH-style fingerprint of the presented key: `SHA256:` + unpadded base64. */
  fingerprint: string;
  /** Key type of the presented key, from its blob (e.g. ssh-ed25519). */
  keyType: string;
  /** The name that was looked up: `host` or `[host]:port`. */
  lookupName: string;
  /** match / revoked: the line that decided it. */
  matchedAt?: { file: string; line: number };
  /** changed: the lines holding a different key of the same type for this host. */
  conflicts?: { file: string; line: number; fingerprint: string }[];
  /** unknown: key types that are known for this host (a different type was presented). */
  otherKeyTypes?: string[];
}

/** SHA256 fingerprint as `ssh-keygen -l` prints it (base64 without padding). */
export function fingerprintSha256(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

/** The key type string at the start of an SSH public key blob, or null if the blob is not one. */
export function keyTypeOf(keyBlob: Buffer): string | null {
  if (keyBlob.length < 4) return null;
  const len = keyBlob.readUInt32BE(0);
  if (len === 0 || len > 64 || 4 + len > keyBlob.length) return null;
  const type = keyBlob.subarray(4, 4 + len).toString('latin1');
  return /^[\x21-\x7e]+$/.test(type) ? type : null;
}

/** The short label ssh prints for a key type: ED25519, ECDSA, RSA, DSA, ... */
export function keyTypeLabel(keyType: string): string {
  if (keyType === 'ssh-ed25519') return 'ED25519';
  if (keyType === 'sk-ssh-ed25519@openssh.com') return 'ED25519-SK';
  if (keyType.startsWith('ecdsa-sha2-')) return 'ECDSA';
  if (keyType === 'sk-ecdsa-sha2-nistp256@openssh.com') return 'ECDSA-SK';
  if (keyType === 'ssh-rsa') return 'RSA';
  if (keyType === 'ssh-dss') return 'DSA';
  return keyType.toUpperCase();
}

/** The name a host is recorded under: `host` on port 22, `[host]:port` otherwise; lower-cased as ssh does. */
export function knownHostName(host: string, port: number): string {
  const h = host.toLowerCase();
  return port === 22 ? h : `[${h}]:${port}`;
}

const B64 = /^[A-Za-z0-9+/]+={0,2}$/;

const decodeB64 = (s: string): Buffer | null => (B64.test(s) ? Buffer.from(s, 'base64') : null);

function parseNames(field: string): KnownHostNames | string {
  if (field.startsWith('|')) {
    const parts = field.split('|');
    if (parts.length !== 4 || parts[1] !== '1') return 'unsupported hashed host name (expected |1|salt|hash)';
    const salt = decodeB64(parts[2] ?? '');
    const hash = decodeB64(parts[3] ?? '');
    if (!salt || !hash || salt.length !== 20 || hash.length !== 20) return 'malformed hashed host name';
    return { kind: 'hashed', salt, hash };
  }
  const patterns: { pattern: string; negated: boolean }[] = [];
  for (const raw of field.split(',')) {
    if (raw === '' || raw === '!') return 'empty host pattern';
    const negated = raw.startsWith('!');
    patterns.push({ pattern: (negated ? raw.slice(1) : raw).toLowerCase(), negated });
  }
  return { kind: 'patterns', patterns };
}

/**
 * Parse the text of one known_hosts file. `file` is only used to label
 * entries and problems.
 */
export function parseKnownHosts(text: string, file = 'known_hosts'): KnownHosts {
  const entries: KnownHostEntry[] = [];
  const problems: KnownHostsProblem[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((rawLine, i) => {
    const line = i + 1;
    const trimmed = rawLine.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const fields = trimmed.split(/[ \t]+/);
    let marker: KnownHostMarker = null;
    if (fields[0]?.startsWith('@')) {
      const m = fields.shift();
      if (m === '@revoked') marker = 'revoked';
      else if (m === '@cert-authority') marker = 'cert-authority';
      else {
        problems.push({ file, line, reason: `unknown marker ${m}` });
        return;
      }
    }
    const [namesField, keyType, keyB64, ...rest] = fields;
    if (namesField === undefined || keyType === undefined || keyB64 === undefined) {
      problems.push({ file, line, reason: 'expected "hostpatterns keytype key"' });
      return;
    }
    if (/^\d+$/.test(keyType)) {
      problems.push({ file, line, reason: 'SSH protocol 1 key (unsupported)' });
      return;
    }
    const names = parseNames(namesField);
    if (typeof names === 'string') {
      problems.push({ file, line, reason: names });
      return;
    }
    const key = decodeB64(keyB64);
    if (!key) {
      problems.push({ file, line, reason: 'key is not valid base64' });
      return;
    }
    const blobType = keyTypeOf(key);
    if (blobType === null) {
      problems.push({ file, line, reason: 'key is not an SSH public key' });
      return;
    }
    if (blobType !== keyType) {
      problems.push({ file, line, reason: `key type ${keyType} does not match the key (${blobType})` });
      return;
    }
    const entry: KnownHostEntry = { file, line, marker, names, keyType, key };
    if (rest.length > 0) entry.comment = rest.join(' ');
    entries.push(entry);
  });
  return { entries, problems };
}

/**
 * Read and parse known_hosts files in order. Missing files are skipped
 * silently (as ssh does); unreadable ones are reported as problems.
 */
export async function loadKnownHosts(files: readonly string[]): Promise<KnownHosts> {
  const out: KnownHosts = { entries: [], problems: [] };
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') continue;
      out.problems.push({ file, line: 0, reason: `cannot read: ${(err as Error).message}` });
      continue;
    }
    const parsed = parseKnownHosts(text, file);
    out.entries.push(...parsed.entries);
    out.problems.push(...parsed.problems);
  }
  return out;
}

const wildcardCache = new Map<string, RegExp>();

/** OpenSSH match_pattern(): `*` any run of characters, `?` exactly one. */
export function wildcardMatch(pattern: string, text: string): boolean {
  let re = wildcardCache.get(pattern);
  if (!re) {
    const src = pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.');
    re = new RegExp(`^${src}$`, 's');
    wildcardCache.set(pattern, re);
  }
  return re.test(text);
}

/** Whether the entry's host field applies to `lookupName` (already `knownHostName()`-formatted). */
export function entryMatchesName(names: KnownHostNames, lookupName: string): boolean {
  const name = lookupName.toLowerCase();
  if (names.kind === 'hashed') {
    const h = createHmac('sha1', names.salt).update(name).digest();
    return h.equals(names.hash);
  }
  // match_hostname(): any negated match vetoes the line; otherwise one positive match is enough.
  let positive = false;
  for (const { pattern, negated } of names.patterns) {
    if (wildcardMatch(pattern, name)) {
      if (negated) return false;
      positive = true;
    }
  }
  return positive;
}

/** Key types (from known_hosts, not revoked, not CA) recorded for a host: ssh uses them to order its host key algorithms. */
export function knownKeyTypes(entries: readonly KnownHostEntry[], host: string, port: number): string[] {
  const name = knownHostName(host, port);
  const types = new Set<string>();
  for (const e of entries) {
    if (e.marker === null && entryMatchesName(e.names, name)) types.add(e.keyType);
  }
  return [...types];
}

/**
 * Check a presented host key against parsed known_hosts entries, the way ssh's
 * check_host_key() does: a revoked key is refused first; a recorded equal key
 * matches; a different key of the same type for this host means the key
 * changed; otherwise the host (or this key type for it) is unknown.
 */
export function verifyHostKey(entries: readonly KnownHostEntry[], host: string, port: number, keyBlob: Buffer): HostKeyVerdict {
  const lookupName = knownHostName(host, port);
  const keyType = keyTypeOf(keyBlob) ?? 'unknown';
  const fingerprint = fingerprintSha256(keyBlob);
  const base = { fingerprint, keyType, lookupName };

  const revoked = entries.find((e) => e.marker === 'revoked' && e.key.equals(keyBlob) && entryMatchesName(e.names, lookupName));
  if (revoked) return { ...base, status: 'revoked', matchedAt: { file: revoked.file, line: revoked.line } };

  const forHost = entries.filter((e) => e.marker === null && entryMatchesName(e.names, lookupName));
  const same = forHost.find((e) => e.key.equals(keyBlob));
  if (same) return { ...base, status: 'match', matchedAt: { file: same.file, line: same.line } };

  const conflicts = forHost.filter((e) => e.keyType === keyType).map((e) => ({ file: e.file, line: e.line, fingerprint: fingerprintSha256(e.key) }));
  if (conflicts.length > 0) return { ...base, status: 'changed', conflicts };

  const otherKeyTypes = [...new Set(forHost.map((e) => e.keyType))];
  return otherKeyTypes.length > 0 ? { ...base, status: 'unknown', otherKeyTypes } : { ...base, status: 'unknown' };
}

/** The known_hosts line ssh would write for this host and key (plain, not hashed). */
export function knownHostLine(host: string, port: number, keyBlob: Buffer): string {
  const type = keyTypeOf(keyBlob);
  if (type === null) throw new Error('not an SSH public key blob');
  return `${knownHostName(host, port)} ${type} ${keyBlob.toString('base64')}`;
}

export class KnownHostsConflictError extends Error {
  constructor(
    message: string,
    readonly verdict: HostKeyVerdict,
  ) {
    super(message);
    this.name = 'KnownHostsConflictError';
  }
}

// Appends from concurrent connections in this process are serialised per file
// so two nodes accepted at once neither interleave nor duplicate lines.
const appendQueues = new Map<string, Promise<unknown>>();

/**
 * Trust on first use: record `host`'s key in `file` (created with its
 * directory if missing) as a plain `host keytype base64` line, `[host]:port`
 * for a port other than 22. Returns 'present' when the file already has this
 * key for the host. Never replaces anything: a file that already holds a
 * different key of this type for the host (or revokes this key) makes it throw
 * KnownHostsConflictError.
 */
export function appendKnownHost(file: string, host: string, port: number, keyBlob: Buffer): Promise<'added' | 'present'> {
  const prev = appendQueues.get(file) ?? Promise.resolve();
  const next = prev.catch(() => undefined).then(() => appendNow(file, host, port, keyBlob));
  appendQueues.set(file, next);
  void next
    .finally(() => {
      if (appendQueues.get(file) === next) appendQueues.delete(file);
    })
    .catch(() => undefined);
  return next;
}

async function appendNow(file: string, host: string, port: number, keyBlob: Buffer): Promise<'added' | 'present'> {
  const line = knownHostLine(host, port, keyBlob);
  let text = '';
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  }
  const verdict = verifyHostKey(parseKnownHosts(text, file).entries, host, port, keyBlob);
  if (verdict.status === 'match') return 'present';
  if (verdict.status === 'changed') {
    const where = verdict.conflicts?.map((c) => `${c.file}:${c.line}`).join(', ') ?? file;
    throw new KnownHostsConflictError(
      `not adding ${verdict.lookupName} to ${file}: a different ${keyTypeLabel(verdict.keyType)} key is already recorded (${where})`,
      verdict,
    );
  }
  if (verdict.status === 'revoked') {
    throw new KnownHostsConflictError(`not adding ${verdict.lookupName} to ${file}: the key is revoked there`, verdict);
  }
  const sep = text === '' || text.endsWith('\n') ? '' : '\n';
  await appendFile(file, `${sep}${line}\n`, { encoding: 'utf8', mode: 0o644 });
  return 'added';
}
