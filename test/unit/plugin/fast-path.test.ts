/**
 * bin/docker-netdoctor answers `--version`, `checks` and `checks --markdown`
 * without loading oclif, `checks` from dist/cli/catalogue.json written at
 * build time (scripts/bundle.mjs). These run the real built executable (needs
 * `npm run build`) and prove each answer equal, byte for byte, to what the
 * oclif command prints for the same argv (dist/cli/plugin/main.js, which the
 * executable runs for everything else), and the catalogue equal to what the
 * registry in src/ generates now (a stale build fails here).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectChecks } from '../../../src/checks/registry.js';
import { catalogueMarkdown, catalogueText } from '../../../src/report/catalogue.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const BIN = join(ROOT, 'bin', 'docker-netdoctor');
const MAIN = join(ROOT, 'dist', 'cli', 'plugin', 'main.js');

beforeAll(() => {
  if (!existsSync(join(ROOT, 'dist', 'cli', 'catalogue.json'))) throw new Error('dist/ is missing: run npm run build first');
});

const env = { ...process.env, NO_COLOR: '1' };

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function spawn(args: string[]): Run {
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', env, timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const fast = (args: string[]): Run => spawn([BIN, ...args]);

/** The same argv through oclif: what the executable does when the fast path does not answer. */
function viaOclif(args: string[]): Run {
  const script = `const { main } = await import(${JSON.stringify(pathToFileURL(MAIN).href)}); await main(process.argv.slice(1), ${JSON.stringify(ROOT)});`;
  return spawn(['--input-type=module', '-e', script, '--', ...args]);
}

// Each test starts node processes (oclif's take ~1 s on a loaded machine): a generous timeout, asserting no time.
describe('the executable without oclif', { timeout: 60_000 }, () => {
  it.each([[['checks']], [['checks', '--markdown']], [['netdoctor', 'checks']], [['--version']], [['netdoctor', '--version']]])(
    '%j prints exactly what the oclif command prints',
    (args) => {
      const a = fast(args);
      const b = viaOclif(args);
      expect(a.code, a.stderr).toBe(0);
      expect(b.code, b.stderr).toBe(0);
      expect(b.stdout.length).toBeGreaterThan(20);
      expect(a.stdout).toBe(b.stdout);
    },
  );

  it('prints the catalogue the registry generates', () => {
    const all = selectChecks({ stack: true });
    expect(fast(['checks']).stdout).toBe(`${catalogueText(all)}\n`);
    expect(fast(['checks', '--markdown']).stdout).toBe(`${catalogueMarkdown(all)}\n`);
  });

  it('leaves other flags to oclif (filter, json, help)', () => {
    const only = fast(['checks', '--only', 'overlay']);
    expect(only.code, only.stderr).toBe(0);
    expect(only.stdout).toBe(`${catalogueText(selectChecks({ only: ['overlay'], stack: true }))}\n`);
    const json = JSON.parse(fast(['checks', '--json']).stdout) as { id: string }[];
    expect(json.map((m) => m.id)).toEqual(selectChecks({ stack: true }).map((c) => c.meta.id));
    expect(fast(['checks', '--help']).stdout).toMatch(/USAGE\s+\$ docker netdoctor checks/);
  });
});
