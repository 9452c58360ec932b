/** net/ip.ts: parsed addresses and prefixes are remembered by their text, frozen, and the memory is bounded. */
import { describe, expect, it } from 'vitest';
import { cidrContainsIp, parseCidr, parseIp } from '../../../src/net/ip.js';

describe('parseIp / parseCidr memo', () => {
  it('the same text gives the same frozen answer; bad text stays null', () => {
    const a = parseIp('10.0.1.7');
    expect(a).toEqual({ family: 4, value: 0x0a000107n });
    expect(parseIp('10.0.1.7')).toBe(a);
    expect(Object.isFrozen(a)).toBe(true);
    expect(() => {
      (a as { value: bigint }).value = 0n;
    }).toThrow(TypeError);
    expect(parseIp('10.0.1.7')!.value).toBe(0x0a000107n);
    expect(parseIp('10.0.1')).toBeNull();
    expect(parseIp('10.0.1')).toBeNull();
    const c = parseCidr('10.0.1.9/24');
    expect(c).toMatchObject({ family: 4, base: 0x0a000100n, prefix: 24, text: '10.0.1.9/24' });
    expect(parseCidr('10.0.1.9/24')).toBe(c);
    expect(parseCidr('10.0.1.9/33')).toBeNull();
  });

  it('answers stay right past the bound (the cache is cleared when full)', () => {
    for (let i = 0; i < 20_000; i++) expect(parseIp(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`)!.value).toBe(0x0a000000n + BigInt(i));
    expect(cidrContainsIp('10.0.0.0/16', '10.0.78.31')).toBe(true);
    expect(cidrContainsIp('fd00::/64', 'fd00::1')).toBe(true);
    expect(cidrContainsIp('fd00::/64', '10.0.0.1')).toBe(false);
  });
});
