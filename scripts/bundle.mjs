#!/usr/bin/env node
// The CLI as an esbuild bundle (run by `npm run build`, after tsc): the plugin
// entry, the help class and every command, bundled with @oclif/core and the
// other pure-JS dependencies into dist/cli/, split so that each command loads
// only its own chunks. Loading oclif from one chunk instead of ~150 files of
// node_modules is most of what `checks` or `--help` cost over a bare node.
// listr2 (the staged view) is imported where a view is shown
// (src/report/progress-lazy.ts) and ssh2 where a connection is made
// (src/ssh/session.ts), so runs without either (machine formats, --no-live,
// --from-bundle, bundle inspect, nodes) load neither: the splitting keeps
// listr2 in a chunk of its own (test/unit/plugin/lazy-load.test.ts).
// dist/ (tsc) stays the library (package.json main) that bench/ and library
// users import. Left external:
//   dockerode  loaded through src/docker/dockerode.ts, which defers its grpc
//              (BuildKit) and docker-modem's ssh2 transport until first use;
//              bundling would evaluate them at load;
//   ssh2, cpu-features   optional native bindings;
//   typescript, ts-node  oclif's dev-mode TypeScript support, never used here.
import { build } from 'esbuild';
import { readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const commands = [];
const walk = (d) => {
  for (const e of readdirSync(d, { withFileTypes: true })) {
    const p = join(d, e.name);
    if (e.isDirectory()) walk(p);
    else if (p.endsWith('.ts')) commands.push(p);
  }
};
walk(join(root, 'src/commands'));
const t = Date.now();
await build({
  entryPoints: [join(root, 'src/plugin/main.ts'), join(root, 'src/help.ts'), ...commands],
  outdir: join(root, 'dist/cli'),
  outbase: join(root, 'src'),
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['dockerode', 'ssh2', 'cpu-features', 'typescript', 'ts-node'],
  chunkNames: 'chunks/[name]-[hash]',
  // CommonJS dependencies call require(); ESM output has none of its own.
  banner: { js: "import { createRequire as __ndCreateRequire } from 'node:module'; const require = __ndCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
console.log(`dist/cli: ${commands.length} commands bundled in ${Date.now() - t} ms`);

// The catalogue that `checks` and `checks --markdown` print, generated from the
// registry of the library build (dist/, tsc): bin/docker-netdoctor answers those
// two from this file without loading oclif (test/unit/plugin/fast-path.test.ts
// proves the answers equal to the oclif command's).
const { selectChecks } = await import('../dist/checks/registry.js');
const { catalogueMarkdown, catalogueText } = await import('../dist/report/catalogue.js');
const { sanitize } = await import('../dist/text/sanitize.js');
const all = selectChecks({ stack: true });
const catalogue = { text: sanitize(catalogueText(all)), markdown: sanitize(catalogueMarkdown(all)) };
writeFileSync(join(root, 'dist/cli/catalogue.json'), `${JSON.stringify(catalogue)}\n`);
console.log(`dist/cli/catalogue.json: ${all.length} checks`);
