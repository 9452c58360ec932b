/**
 * The bundle's container: a gzip-compressed POSIX tar, written and read in
 * memory. Writing uses node-tar's header encoder (pax headers for long
 * names); reading uses its parser, bounded and strict: only regular files
 * and folders, no link of any kind, no path that leaves the bundle, no
 * duplicate, no entry or total over the limits (checked from the headers and
 * as the data is inflated, never after), and the archive must end properly. Nothing is ever written to
 * disk while reading, so nothing can be followed or overwritten.
 */
import { createGunzip, gzipSync } from 'node:zlib';
import { Header, Parser, Pax, type ReadEntry } from 'tar';

export interface TarFile {
  path: string;
  data: Buffer;
}

/** A gzip tar of `files`, in the given order; every entry a regular file (0644) dated `mtime`. */
export function writeTarGz(files: readonly TarFile[], mtime: Date): Buffer {
  const out: Buffer[] = [];
  for (const f of files) {
    const h = { path: f.path, mode: 0o644, uid: 0, gid: 0, size: f.data.length, mtime, type: 'File' as const, uname: '', gname: '' };
    const block = Buffer.alloc(512);
    if (new Header(h).encode(block)) out.push(new Pax(h).encode());
    out.push(block, f.data, Buffer.alloc((512 - (f.data.length % 512)) % 512));
  }
  out.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(out), { level: 9 });
}

export interface ReadLimits {
  /** Largest uncompressed size accepted (all entries, headers included). */
  maxBytes: number;
  maxEntries: number;
  /** Largest single entry accepted, judged from its header before any of it is inflated. */
  maxEntryBytes?: number;
  /** Largest compression ratio accepted once more than RATIO_FLOOR bytes were inflated (a gzip bomb). */
  maxRatio?: number;
}

export const ENTRY_LIMITS = { maxEntryBytes: 256 * 2 ** 20, maxRatio: 200 };
/** Below this much inflated data, any ratio is fine (small, highly repetitive files). */
export const RATIO_FLOOR = 16 * 2 ** 20;

const mib = (n: number): string => `${Math.round(n / 2 ** 20)} MiB`;

/** Why a tar.gz was refused; the caller prefixes the file name. */
export class BadArchive extends Error {}

/** A path that is relative and stays inside the folder it would be extracted to. */
export function safeEntryPath(raw: string): string | null {
  if (raw === '' || raw.includes('\0') || raw.includes('\\')) return null;
  if (raw.startsWith('/') || /^[A-Za-z]:/.test(raw)) return null;
  const parts = raw.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.length === 0 || parts.some((p) => p === '..')) return null;
  return parts.join('/');
}

/**
 * The regular files of a tar.gz held in memory, by path. Streamed: the gzip
 * data is inflated chunk by chunk into the tar parser, and every limit is
 * checked as the bytes come: an entry whose header declares more than
 * maxEntryBytes (or more than is left of maxBytes) is refused at its header,
 * before any of it is inflated; the inflated total and the compression ratio
 * are counted per chunk. Memory is what is kept (bounded by the limits),
 * never what a bomb would inflate to.
 */
export async function readTarGz(gz: Buffer, limits: ReadLimits): Promise<Map<string, Buffer>> {
  if (gz.length < 2 || gz[0] !== 0x1f || gz[1] !== 0x8b) throw new BadArchive('not gzip-compressed');
  const maxEntry = limits.maxEntryBytes ?? ENTRY_LIMITS.maxEntryBytes;
  const maxRatio = limits.maxRatio ?? ENTRY_LIMITS.maxRatio;
  const files = new Map<string, Buffer>();
  return new Promise<Map<string, Buffer>>((resolve, reject) => {
    let failed: Error | null = null;
    let settled = false;
    const gunzip = createGunzip({ chunkSize: 64 * 1024 });
    const settle = (err: Error | null) => {
      if (settled) return;
      settled = true;
      if (err) {
        gunzip.destroy();
        reject(err);
      } else {
        resolve(files);
      }
    };
    const fail = (e: Error) => {
      failed ??= e;
      settle(failed);
    };
    let declared = 0;
    const parser = new Parser({ strict: true, maxMetaEntrySize: 1024 * 1024 });
    parser.on('entry', (entry: ReadEntry) => {
      if (failed) return entry.resume();
      const path = safeEntryPath(entry.path);
      const verdict = entryVerdict(entry, path, { files, declared, gzLength: gz.length, limits, maxEntry, maxRatio });
      if (verdict instanceof BadArchive) fail(verdict);
      if (verdict !== 'keep') return entry.resume();
      declared += entry.size;
      const chunks: Buffer[] = [];
      let got = 0;
      entry.on('data', (c: Buffer) => {
        got += c.length;
        if (got <= entry.size) chunks.push(c);
      });
      entry.on('end', () => files.set(path!, Buffer.concat(chunks)));
    });
    parser.on('error', (e: Error) => fail(failed ?? new BadArchive(`corrupt tar archive (${e.message.replace(/^TAR_[A-Z_]+: /, '')})`)));

    // After its end-of-archive marker the parser only appends what it is given
    // to one buffer (quadratic in time and unbounded): feed it nothing more.
    let sawEof = false;
    parser.on('eof', () => {
      sawEof = true;
    });

    // A complete archive ends with (at least) two zero blocks: keep the last 1024 bytes to check.
    let inflated = 0;
    let tail = Buffer.alloc(0);
    gunzip.on('data', (c: Buffer) => {
      if (settled) return;
      inflated += c.length;
      if (inflated > limits.maxBytes) return fail(new BadArchive(`larger than ${mib(limits.maxBytes)} uncompressed`));
      if (inflated > RATIO_FLOOR && inflated > gz.length * maxRatio) {
        return fail(
          new BadArchive(
            `compression ratio over ${maxRatio}:1 (${mib(inflated)} from ${(gz.length / 1024).toFixed(0)} KiB so far): refused as a gzip bomb`,
          ),
        );
      }
      tail = Buffer.concat([tail, c]);
      if (tail.length > 1024) tail = Buffer.from(tail.subarray(tail.length - 1024));
      if (!sawEof) parser.write(c);
    });
    gunzip.on('error', (e: NodeJS.ErrnoException) => fail(new BadArchive(`truncated or corrupt gzip data (${e.message})`)));
    gunzip.on('end', () => {
      if (settled) return;
      if (inflated < 1024 || inflated % 512 !== 0 || tail.some((b) => b !== 0)) {
        return fail(new BadArchive('truncated tar archive (no end-of-archive marker)'));
      }
      parser.on('end', () => settle(failed));
      parser.end();
    });
    gunzip.end(gz);
  });
}

/** What entryVerdict needs to know about the archive read so far. */
interface EntryContext {
  files: Map<string, Buffer>;
  declared: number;
  gzLength: number;
  limits: ReadLimits;
  maxEntry: number;
  maxRatio: number;
}

/**
 * Whether a tar entry is kept, skipped (the archive's root, folders) or refuses
 * the whole archive, decided from its header alone, before any of it is inflated.
 */
function entryVerdict(entry: ReadEntry, path: string | null, ctx: EntryContext): 'keep' | 'skip' | BadArchive {
  const { files, declared, gzLength, limits, maxEntry, maxRatio } = ctx;
  const shown = JSON.stringify(entry.path);
  if (entry.type === 'Directory' && /^(\.\/?)+$/.test(entry.path)) {
    return 'skip'; // `./`: the archive's own root (tar -C dir .).
  } else if (entry.type === 'SymbolicLink' || entry.type === 'Link') {
    return new BadArchive(
      `entry ${shown} is a ${entry.type === 'Link' ? 'hard' : 'symbolic'} link (to ${JSON.stringify(entry.linkpath ?? '?')}); bundles hold regular files only`,
    );
  } else if (path === null) {
    return new BadArchive(`entry ${shown} escapes the bundle (absolute path or ..)`);
  } else if (entry.type === 'Directory') {
    return 'skip'; // Folders carry nothing.
  } else if (entry.type !== 'File' && entry.type !== 'OldFile' && entry.type !== 'ContiguousFile') {
    return new BadArchive(`entry ${shown} is a ${entry.type}; bundles hold regular files only`);
  } else if (files.has(path)) {
    return new BadArchive(`entry ${JSON.stringify(path)} appears twice`);
  } else if (files.size >= limits.maxEntries) {
    return new BadArchive(`more than ${limits.maxEntries} entries`);
  } else if (entry.size > maxEntry) {
    return new BadArchive(
      `entry ${shown} is ${mib(entry.size)}, larger than the ${mib(maxEntry)} accepted for one file (refused from its header, nothing inflated)`,
    );
  } else if (declared + entry.size > RATIO_FLOOR && declared + entry.size > gzLength * maxRatio) {
    return new BadArchive(
      `compression ratio over ${maxRatio}:1 (entry ${shown} brings the declared size to ${mib(declared + entry.size)} from ${(gzLength / 1024).toFixed(0)} KiB): refused as a gzip bomb, nothing inflated`,
    );
  } else if (declared + entry.size > limits.maxBytes) {
    return new BadArchive(`larger than ${mib(limits.maxBytes)} uncompressed (entry ${shown} would pass it)`);
  }
  return 'keep';
}
