/**
 * The section splitter fed as the bytes arrive, and bounded: the recorded
 * lab outputs split the same in any chunking, and a node that prints far
 * more than a section may hold loses that section's tail only.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SectionSplitter, splitSections } from '../../../src/collect/sections.js';
import { buildNodeSnapshot } from '../../../src/snapshot/node.js';

const M = '@@NDtest@@';
const fixture = (node: string) => {
  const base = new URL('../../fixtures/lab/healthy/', import.meta.url);
  return { text: readFileSync(new URL(`${node}.txt`, base)), marker: readFileSync(new URL(`${node}.marker`, base), 'utf8').trim() };
};

function chunked(data: Buffer, marker: string, size: number) {
  const s = new SectionSplitter(marker);
  for (let i = 0; i < data.length; i += size) s.push(data.subarray(i, i + size));
  return s.end();
}

describe('SectionSplitter on recorded lab output', () => {
  for (const node of ['nd1', 'nd2', 'nd3']) {
    it(`${node}: any chunking gives the same sections as the whole`, () => {
      const { text, marker } = fixture(node);
      const whole = splitSections(text, marker);
      expect(whole.complete).toBe(true);
      expect(Object.keys(whole.sections).length).toBeGreaterThan(10);
      for (const size of [1, 7, marker.length - 1, marker.length + 1, 4096, 32768]) {
        expect(chunked(text, marker, size), `chunk ${size}`).toEqual(whole);
      }
    });
  }
});

describe('SectionSplitter limits', () => {
  const frame = (name: string, body: string, rc = 0) => `${M} BEGIN ${name}\n${body}\n${M} END ${name} ${rc}\n`;

  it('cuts one oversized section, counts what it dropped, keeps the others', () => {
    const s = new SectionSplitter(M, { maxSectionBytes: 1000 });
    s.push(frame('host/hostname', 'nd2'));
    s.push(`${M} BEGIN netns/1-abc/fdb\n`);
    const line = Buffer.from('02:42:0a:00:01:05 dev vxlan0 dst 10.213.0.12 link-netnsid 0 self permanent\n');
    for (let i = 0; i < 10_000; i++) s.push(line);
    s.push(`\n${M} ERR netns/1-abc/fdb some warning\n${M} END netns/1-abc/fdb 0\n`);
    s.push(frame('host/link', '[]'));
    s.push(`${M} DONE\n`);
    const out = s.end();
    expect(out.complete).toBe(true);
    expect(out.sections['host/hostname']).toEqual({ stdout: 'nd2', stderr: '', rc: 0 });
    expect(out.sections['host/link']).toEqual({ stdout: '[]', stderr: '', rc: 0 });
    const fdb = out.sections['netns/1-abc/fdb']!;
    expect(fdb.rc).toBe(0);
    expect(fdb.truncated).toBe(true);
    expect(Buffer.byteLength(fdb.stdout)).toBe(1000);
    expect(fdb.stdout.startsWith('02:42:0a:00:01:05 dev vxlan0')).toBe(true);
    expect(fdb.droppedBytes).toBe(10_000 * line.length + 1 - 1000);
    expect(fdb.stderr).toBe('some warning');
  });

  it('keeps memory flat while 256 MiB go through one section', () => {
    const s = new SectionSplitter(M);
    s.push(`${M} BEGIN netns/1-abc/fdb\n`);
    const chunk = Buffer.alloc(64 * 1024, 'y\n');
    const before = process.memoryUsage().arrayBuffers;
    for (let i = 0; i < 4096; i++) s.push(chunk);
    const grown = process.memoryUsage().arrayBuffers - before;
    s.push(`\n${M} END netns/1-abc/fdb 0\n${M} BEGIN host/hostname\nnd2\n${M} END host/hostname 0\n${M} DONE\n`);
    const out = s.end();
    expect(grown).toBeLessThan(40 * 2 ** 20);
    expect(Buffer.byteLength(out.sections['netns/1-abc/fdb']!.stdout)).toBe(16 * 2 ** 20);
    expect(out.sections['netns/1-abc/fdb']!.droppedBytes).toBe(256 * 2 ** 20 + 1 - 16 * 2 ** 20);
    expect(out.sections['host/hostname']!.stdout).toBe('nd2');
  });

  it('bounds the whole node: later sections are cut once the node total is reached', () => {
    const out = splitSections(frame('a', 'x'.repeat(600)) + frame('b', 'y'.repeat(600)) + frame('c', 'z') + `${M} DONE\n`, M, {
      maxSectionBytes: 1000,
      maxTotalBytes: 1000,
    });
    expect(out.sections.a!.stdout).toBe('x'.repeat(600));
    expect(out.sections.a!.truncated).toBeUndefined();
    // a kept 601 bytes: its 600 and the newline sec() prints before END.
    expect(out.sections.b!.stdout).toBe('y'.repeat(399));
    expect(out.sections.b!.truncated).toBe(true);
    expect(out.sections.c).toMatchObject({ stdout: '', truncated: true, rc: 0 });
  });

  it('cuts a framing line longer than the line limit and goes on', () => {
    const huge = 'e'.repeat(200_000);
    const out = chunked(Buffer.from(`${M} BEGIN a\nout\n${M} ERR a ${huge}\n${M} END a 1\n${M} DONE\n`), M, 4096);
    expect(out.complete).toBe(true);
    expect(out.sections.a!.rc).toBe(1);
    expect(out.sections.a!.stdout).toBe('out');
    expect(out.sections.a!.stderr.length).toBeLessThanOrEqual(64 * 1024);
    expect(out.sections.a!.stderr.startsWith('eee')).toBe(true);
  });

  it('bounds text outside sections', () => {
    const out = splitSections('banner '.repeat(100_000), M);
    expect(out.stray.length).toBeLessThanOrEqual(64 * 1024);
  });

  it('takes section names as data: __proto__ and constructor are ordinary sections', () => {
    const out = splitSections(frame('__proto__', 'p') + frame('constructor', 'c') + `${M} DONE\n`, M);
    expect(Object.keys(out.sections)).toEqual(['__proto__', 'constructor']);
    expect(out.sections['__proto__']!.stdout).toBe('p');
    expect(Object.getPrototypeOf(out.sections)).toBeNull();
    expect(JSON.parse(JSON.stringify(out.sections)).constructor).toEqual({ stdout: 'c', stderr: '', rc: 0 });
  });

  it('reports a cut section as a node error, keeping the node partial and analysed', () => {
    const { text, marker } = fixture('nd2');
    const whole = splitSections(text, marker).sections;
    const name = Object.keys(whole).find((k) => k.endsWith('/fdb'))!;
    const cut = splitSections(text, marker, { maxSectionBytes: 10 });
    const snap = buildNodeSnapshot(
      {
        name: 'nd2',
        id: null,
        target: { host: 'nd2', port: 22, user: 'root', via: [] },
        output: cut,
        errors: [],
        timings: { connectMs: 1, execMs: 1, totalMs: 2 },
        receivedAt: 0,
      },
      [],
    );
    expect(snap.status).toBe('partial');
    expect(snap.host).not.toBeNull();
    const e = snap.errors.find((x) => x.message.includes(name))!;
    expect(e).toMatchObject({ stage: 'exec', kind: 'truncated' });
    expect(e.message).toMatch(/^section \S+ printed [\d.]+ MiB; only its first [\d.]+ MiB were kept/);
    expect(whole[name]!.truncated).toBeUndefined();
  });
});
