/**
 * Installing the plugin = a symlink named docker-netdoctor in the docker CLI's
 * cli-plugins directory ($DOCKER_CONFIG/cli-plugins, default ~/.docker/cli-plugins),
 * the first place docker/cli's plugin manager looks.
 */
import { lstat, mkdir, readlink, rm, symlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { resolveConfigDir } from '../docker/endpoint.js';
import { usageError } from '../errors.js';

export const PLUGIN_FILE = 'docker-netdoctor';

/**
 * The cli-plugins directory to use: --dir, else `cli-plugins` in docker's
 * config dir (--config, DOCKER_CONFIG, ~/.docker, resolved as the endpoint is).
 */
export function pluginDir(flagDir: string | undefined, flagConfig: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return flagDir ?? join(resolveConfigDir({ config: flagConfig }, env, homedir()), 'cli-plugins');
}

export interface LinkResult {
  path: string;
  target: string;
  changed: boolean;
}

async function existing(path: string): Promise<{ link: string | null } | null> {
  try {
    const st = await lstat(path);
    return { link: st.isSymbolicLink() ? await readlink(path) : null };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

export async function installPluginLink(pluginDir: string, target: string, force = false): Promise<LinkResult> {
  const path = join(pluginDir, PLUGIN_FILE);
  await mkdir(pluginDir, { recursive: true });
  const cur = await existing(path);
  if (cur?.link === target) return { path, target, changed: false };
  if (cur && !force) {
    throw usageError(`${path} already exists${cur.link ? ` (a link to ${cur.link})` : ''}; use --force to replace it`);
  }
  if (cur) await rm(path, { force: true });
  await symlink(target, path);
  return { path, target, changed: true };
}

export async function uninstallPluginLink(pluginDir: string, target: string, force = false): Promise<LinkResult> {
  const path = join(pluginDir, PLUGIN_FILE);
  const cur = await existing(path);
  if (!cur) return { path, target, changed: false };
  if (cur.link !== target && !force) {
    throw usageError(`${path} is not a link to this installation (${cur.link ?? 'a regular file'}); use --force to remove it`);
  }
  await rm(path, { force: true });
  return { path, target, changed: true };
}
