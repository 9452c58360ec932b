// `node --import <this file>`: records what the process loads into the file
// named by ND_LOAD_TRACE, ESM through the hooks (hooks.mjs), CommonJS from
// require.cache at exit (a createRequire() require does not pass the hooks).
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';

register(new URL('./hooks.mjs', import.meta.url));
const require = createRequire(import.meta.url);
process.on('exit', () => {
  if (process.env.ND_LOAD_TRACE)
    appendFileSync(
      process.env.ND_LOAD_TRACE,
      Object.keys(require.cache)
        .map((p) => `${p}\n`)
        .join(''),
    );
});
