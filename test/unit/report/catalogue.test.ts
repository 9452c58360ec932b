import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { catalogueMarkdown } from '../../../src/report/catalogue.js';

describe('the README check catalogue', () => {
  it('is exactly what the registry generates (docker netdoctor checks --markdown)', () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    const m = /<!-- catalogue:start -->\n([\s\S]*?)\n<!-- catalogue:end -->/.exec(readme);
    expect(m, 'catalogue markers in README.md').not.toBeNull();
    expect(m![1]!.trim()).toBe(catalogueMarkdown().trim());
  });
});
