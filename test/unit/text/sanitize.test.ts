import { describe, expect, it } from 'vitest';
import { hasControl, sanitize, sanitizeLine } from '../../../src/text/sanitize.js';

describe('sanitize', () => {
  it('escapes C0 (except newline and tab), ESC, DEL and C1', () => {
    expect(sanitize('a\u001b[2Jb')).toBe('a\\x1b[2Jb');
    expect(sanitize('x\ry')).toBe('x\\x0dy');
    expect(sanitize('\u0000\u0007\u0008\u000b\u000c\u007f')).toBe('\\x00\\x07\\x08\\x0b\\x0c\\x7f');
    expect(sanitize('\u009b31m\u0085')).toBe('\\x9b31m\\x85');
    expect(sanitize('line1\nline2\tcol')).toBe('line1\nline2\tcol');
  });

  it('escapes OSC 8 hyperlinks and bidi overrides', () => {
    const link = '\u001b]8;;http://evil.example/\u0007all passed\u001b]8;;\u0007';
    expect(sanitize(link)).toBe('\\x1b]8;;http://evil.example/\\x07all passed\\x1b]8;;\\x07');
    expect(sanitize('abc\u202edcb')).toBe('abc\\u202edcb');
    expect(sanitize('a\u2066b\u2069')).toBe('a\\u2066b\\u2069');
  });

  it('keeps printable Unicode and plain text unchanged', () => {
    for (const s of ['nd1', 'überknoten', 'ノード', '✔ passed', 'a\\x1b literal', '']) expect(sanitize(s)).toBe(s);
  });

  it('sanitizeLine also escapes newline and tab', () => {
    expect(sanitizeLine('nd3\n✔ all checks passed\tok')).toBe('nd3\\x0a✔ all checks passed\\x09ok');
  });

  it('hasControl', () => {
    expect(hasControl('a\u001bb')).toBe(true);
    expect(hasControl('a\nb')).toBe(false);
    expect(hasControl('a\nb')).toBe(false);
  });

  it('escapes every one of many control characters (no cap, no loss)', () => {
    const big = '\u001b'.repeat(2 ** 16);
    expect(sanitize(big)).toBe('\\x1b'.repeat(2 ** 16));
  });
});
