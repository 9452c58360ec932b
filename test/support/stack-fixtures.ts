/**
 * Stacks for gate tests: test/fixtures/stack/<name>.yml as a user writes it,
 * and config/<name>.yml, what the real `docker stack config -c <name>.yml`
 * (docker CLI 28.2) printed for it. Planned against a lab recording.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildStackModel, type StackModel } from '../../src/model/stack.js';
import type { ClusterSnapshot } from '../../src/snapshot/types.js';
import { normaliseStack } from '../../src/stack/normalise.js';
import { Locator } from '../../src/stack/read.js';
import type { Stack } from '../../src/stack/types.js';

export const STACK_DIR = fileURLToPath(new URL('../fixtures/stack/', import.meta.url));
export const stackFile = (name: string): string => `${STACK_DIR}${name}.yml`;

/** The normalised stack of config/<config>.yml, read from the user files `files`. */
export function fixtureStack(config: string, files: string[] = [config], name = 'app'): Stack {
  const text = readFileSync(`${STACK_DIR}config/${config}.yml`, 'utf8');
  return normaliseStack(
    text,
    name,
    files.map((f) => ({ path: stackFile(f) })),
  );
}

/** A planner for the check tester: the stack against the case's snapshot, with file:line from its files. */
export async function stackPlanner(config: string, files: string[] = [config]): Promise<(s: ClusterSnapshot) => StackModel> {
  const stack = fixtureStack(config, files);
  const locator = await Locator.load(stack.files);
  return (snapshot) => buildStackModel(stack, snapshot.cluster, locator);
}
