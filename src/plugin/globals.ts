/**
 * The docker global flags of this invocation, parsed once by main() before
 * oclif runs, read by commands that need a Docker endpoint.
 */
import type { DockerGlobalOptions } from '../docker/endpoint.js';

let current: DockerGlobalOptions = {};

export const setDockerGlobals = (globals: DockerGlobalOptions): void => {
  current = { ...globals };
};

export const dockerGlobals = (): DockerGlobalOptions => current;
