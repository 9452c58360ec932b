#!/usr/bin/env node
// Writes oclif.manifest.json (run by `npm run build`, after tsc): the command
// list, flags and help text of every command, so that oclif answers
// --version, --help and the topic listing without importing any command
// module, and imports only the one command a run uses. What `oclif manifest`
// does, with @oclif/core alone.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Plugin } from '@oclif/core';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const plugin = new Plugin({ root, type: 'core', ignoreManifest: true, errorOnManifestCreate: true, respectNoCacheDefault: true });
await plugin.load();
const n = Object.keys(plugin.manifest.commands).length;
if (n === 0) throw new Error('no commands found: build dist/ first');
writeFileSync(join(root, 'oclif.manifest.json'), `${JSON.stringify(plugin.manifest, null, 2)}\n`);
console.log(`oclif.manifest.json: ${n} commands`);
