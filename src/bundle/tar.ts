/**
 * The bundle's container: a gzip-compressed POSIX tar, written and read in
 * memory. Writing uses node-tar's header encoder (pax headers for long
 * names); reading uses its parser, bounded and strict: only regular files
 * and folders, no link of any kind, no path that leaves the bundle, no
 * duplicate, and the archive must end properly. Nothing is ever written to
 * disk while reading, so nothing can be followed or overwritten.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
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
  /** Largest uncompressed size accepted. */
  maxBytes: number;
  maxEntries: number;
}

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

/** The regular files of a tar.gz held in memory, by path. */
export async function readTarGz(gz: Buffer, limits: ReadLimits): Promise<Map<string, Buffer>> {
  if (gz.length < 2 || gz[0] !== 0x1f || gz[1] !== 0x8b) throw new BadArchive('not gzip-compressed');
  let tar: Buffer;
  try {
    tar = gunzipSync(gz, { maxOutputLength: limits.maxBytes });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) throw new BadArchive(`larger than ${Math.round(limits.maxBytes / 2 ** 20)} MiB uncompressed`);
    throw new BadArchive(`truncated or corrupt gzip data (${e.message})`);
  }
  // A complete archive ends with (at least) two zero blocks.
  if (tar.length < 1024 || tar.length % 512 !== 0 || tar.subarray(tar.length - 1024).some((b) => b !== 0)) {
    throw new BadArchive('truncated tar archive (no end-of-archive marker)');
  }
  const files = new Map<string, Buffer>();
  await new Promise<void>((resolve, reject) => {
    let failed: Error | null = null;
    const fail = (e: Error) => {
      failed ??= e;
    };
    const parser = new Parser({ strict: true, maxMetaEntrySize: 1024 * 1024 });
    parser.on('entry', (entry: ReadEntry) => {
      const chunks: Buffer[] = [];
      entry.on('data', (c: Buffer) => chunks.push(c));
      if (failed) return entry.resume();
      const path = safeEntryPath(entry.path);
      if (entry.type === 'Directory' && /^(\.\/?)+$/.test(entry.path)) {
        // `./`: the archive's own root (tar -C dir .).
      } else if (entry.type === 'SymbolicLink' || entry.type === 'Link') {
        fail(new BadArchive(`entry ${entry.path} is a ${entry.type === 'Link' ? 'hard' : 'symbolic'} link (to ${entry.linkpath ?? '?'}); bundles hold regular files only`));
      } else if (path === null) {
        fail(new BadArchive(`entry ${JSON.stringify(entry.path)} escapes the bundle (absolute path or ..)`));
      } else if (entry.type === 'Directory') {
        // Folders carry nothing.
      } else if (entry.type !== 'File' && entry.type !== 'OldFile' && entry.type !== 'ContiguousFile') {
        fail(new BadArchive(`entry ${entry.path} is a ${entry.type}; bundles hold regular files only`));
      } else if (files.has(path)) {
        fail(new BadArchive(`entry ${path} appears twice`));
      } else if (files.size >= limits.maxEntries) {
        fail(new BadArchive(`more than ${limits.maxEntries} entries`));
      } else {
        entry.on('end', () => files.set(path, Buffer.concat(chunks)));
      }
      entry.resume();
    });
    parser.on('error', (e: Error) => reject(failed ?? new BadArchive(`corrupt tar archive (${e.message.replace(/^TAR_[A-Z_]+: /, '')})`)));
    parser.on('end', () => (failed ? reject(failed) : resolve()));
    parser.end(tar);
  });
  return files;
}
