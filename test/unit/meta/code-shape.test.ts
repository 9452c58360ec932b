/**
 * The shape issue 8 set for the code: no file under src/checks/ over 200
 * lines, no function anywhere in src/ over 80 lines (parsers included),
 * measured with the TypeScript compiler's own syntax tree.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = new URL('../../../src/', import.meta.url).pathname;
const files = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(dir, f));

function longFunctions(file: string, max: number): string[] {
  const text = readFileSync(file, 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const out: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const start = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
      const end = sf.getLineAndCharacterOfPosition(node.end).line;
      if (end - start + 1 > max) {
        const name = node.name?.getText(sf) ?? '(anonymous)';
        out.push(`${relative(SRC, file)}:${start + 1} ${name} (${end - start + 1} lines)`);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

describe('code shape', () => {
  it('no file under src/checks/ is over 200 lines', () => {
    const long = files(join(SRC, 'checks'))
      .map((f) => ({ f: relative(SRC, f), n: readFileSync(f, 'utf8').split('\n').length }))
      .filter((x) => x.n > 200);
    expect(long).toEqual([]);
  });

  it('no function in src/ is over 80 lines', () => {
    expect(files(SRC).flatMap((f) => longFunctions(f, 80))).toEqual([]);
  }, 60_000); // parses every file in src/: slow on a loaded machine
});
