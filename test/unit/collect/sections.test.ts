import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { buildCollectScript } from '../../../src/collect/script.js';
import { splitSections } from '../../../src/collect/sections.js';
import { parseTimes } from '../../../src/parse/host.js';

const M = '@@NDtest@@';

describe('splitSections', () => {
  it('splits framed output, attributes stderr by section and keeps exit codes', () => {
    const out = [
      `${M} BEGIN host/hostname`,
      'nd1',
      '',
      `${M} END host/hostname 0`,
      `${M} BEGIN host/ipvs`,
      `${M} ERR host/ipvs sh: ipvsadm: not found`,
      '',
      `${M} END host/ipvs 127`,
      `${M} DONE`,
      '',
    ].join('\n');
    const s = splitSections(out, M);
    expect(s.complete).toBe(true);
    expect(s.sections['host/hostname']).toEqual({ stdout: 'nd1\n', stderr: '', rc: 0 });
    expect(s.sections['host/ipvs']).toEqual({ stdout: '', stderr: 'sh: ipvsadm: not found', rc: 127 });
    expect(s.stray).toBe('');
  });

  it('finds a marker that follows stdout without a final newline', () => {
    const s = splitSections(`${M} BEGIN a\nno-newline\n${M} END a 0\n${M} DONE\n`, M);
    expect(s.sections.a!.stdout).toBe('no-newline');
    const glued = splitSections(`${M} BEGIN a\nx${M} END a 0\n${M} DONE\n`, M);
    expect(glued.sections.a!.stdout).toBe('x');
  });

  it('marks a stream cut mid-section as truncated and incomplete', () => {
    const s = splitSections(`${M} BEGIN a\n1\n${M} END a 0\n${M} BEGIN b\npartial out`, M);
    expect(s.complete).toBe(false);
    expect(s.sections.a!.rc).toBe(0);
    expect(s.sections.b).toMatchObject({ stdout: 'partial out', rc: null, truncated: true });
  });

  it('keeps text outside sections as stray and ignores an empty stream', () => {
    expect(splitSections('motd banner\n', M)).toEqual({ sections: {}, complete: false, stray: 'motd banner' });
    expect(splitSections('', M).complete).toBe(false);
  });
});

describe('the collection script under a real sh', () => {
  it('frames every section, tags stderr, passes exit codes and reads nothing from stdin', () => {
    const { script, marker } = buildCollectScript({ dataPathPort: 4789 });
    const r = spawnSync('sh', ['-s'], { input: script, encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(0);
    const s = splitSections(r.stdout, marker);
    expect(s.complete).toBe(true);
    expect(s.stray).toBe('');
    expect(s.sections['host/hostname']!.rc).toBe(0);
    expect(s.sections['host/hostname']!.stdout.trim()).not.toBe('');
    expect(s.sections['host/modules']!.stdout).toMatch(/^vxlan (present|absent)$/m);
    expect(s.sections['host/sysctl']!.stdout).toMatch(/^net\/ipv4\/ip_forward=/m);
    expect(JSON.parse(s.sections['host/link']!.stdout)).toBeInstanceOf(Array);
    // The collection's own CPU, measured at the top level of the script (not in a subshell).
    expect(parseTimes(s.sections['meta/times']!.stdout)).toBeGreaterThan(0);
    // A daemon file that does not exist here: a failed section with the reason, not a crash.
    expect(s.sections['host/daemon-json']!.rc).not.toBe(0);
  });

  it('cuts IPsec key material before it leaves the node', () => {
    const { script } = buildCollectScript({ dataPathPort: 4789 });
    expect(script).toContain('ip xfrm state | sed -E "s/0x[0-9a-fA-F]{16,}/<redacted>/g"');
    const line = '\taead rfc4106(gcm(aes)) 0x0123456789abcdef0123456789abcdef01234567 128';
    const r = spawnSync('sh', ['-c', 'sed -E "s/0x[0-9a-fA-F]{16,}/<redacted>/g"'], {
      input: `src 10.0.0.1 dst 10.0.0.2\n\tproto esp spi 0xc0ffee01 reqid 1 mode transport\n${line}\n`,
      encoding: 'utf8',
    });
    expect(r.stdout).toContain('aead rfc4106(gcm(aes)) <redacted> 128');
    expect(r.stdout).toContain('spi 0xc0ffee01');
    expect(r.stdout).not.toContain('0123456789abcdef0123');
  });
});
