// Module hooks (module.register) for load-trace: every URL Node loads through
// the ESM loader (our bundle's chunks, external packages such as ssh2 imported
// or required from ESM) is appended to the file named by ND_LOAD_TRACE.
import { appendFileSync } from 'node:fs';

export async function load(url, context, next) {
  if (process.env.ND_LOAD_TRACE) appendFileSync(process.env.ND_LOAD_TRACE, `${url}\n`);
  return next(url, context);
}
