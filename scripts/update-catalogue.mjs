// Rewrites the README's check catalogue (between the catalogue markers) from
// the registry, as `docker netdoctor checks --markdown` prints it. Run after
// `npm run build`: node scripts/update-catalogue.mjs
import { readFileSync, writeFileSync } from 'node:fs';
import { catalogueMarkdown } from '../dist/report/catalogue.js';
import { coverageMarkdown } from '../dist/report/failures.js';

const file = new URL('../README.md', import.meta.url);
const readme = readFileSync(file, 'utf8');
const re = /(<!-- catalogue:start -->\n)[\s\S]*?(\n<!-- catalogue:end -->)/;
if (!re.test(readme)) throw new Error('README.md has no catalogue markers');
const rows = /(<!-- failures:start -->\n)[\s\S]*?(\n?<!-- failures:end -->)/;
if (!rows.test(readme)) throw new Error('README.md has no failures markers');
writeFileSync(
  file,
  readme
    .replace(re, (_, a, b) => `${a}${catalogueMarkdown().trim()}${b}`)
    .replace(rows, (_, a) => `${a}${coverageMarkdown().trim()}\n<!-- failures:end -->`),
);
