/**
 * Shared plumbing for commands: the docker endpoint from docker's global
 * flags, and a manager connection. Commands stay thin on top of it.
 */
import { Command } from '@oclif/core';
import type Dockerode from 'dockerode';
import { resolveEndpoint, type ResolvedEndpoint } from './docker/endpoint.js';
import { dockerGlobals } from './plugin/globals.js';
import { oneLine } from './plugin/main.js';
import { sanitize, sanitizeLine } from './text/sanitize.js';

export abstract class NetdoctorCommand extends Command {
  /** Resolve the endpoint exactly as the docker CLI would for this invocation. */
  protected endpoint(): ResolvedEndpoint {
    return resolveEndpoint(dockerGlobals());
  }

  /**
   * A dockerode client on a swarm manager, once GET /info says it is one; one-line errors (exit 3)
   * otherwise. `whileAsking` runs once that request is on its way (work that can overlap the wait).
   */
  protected async manager(whileAsking?: () => void): Promise<{ docker: Dockerode; endpoint: ResolvedEndpoint }> {
    const endpoint = this.endpoint();
    // Loaded here, not at startup: commands that never reach a daemon skip dockerode.
    const { createDockerClient, requireSwarmManager } = await import('./docker/client.js');
    const docker = createDockerClient(endpoint);
    const asking = requireSwarmManager(docker, endpoint);
    if (whileAsking) setImmediate(whileAsking);
    await asking;
    return { docker, endpoint };
  }

  // What commands print for people (tables, summaries, warnings) often holds
  // names from the cluster: control characters are shown escaped. JSON output
  // does not pass through these (oclif writes it itself) and stays exact.
  override log(message = '', ...args: unknown[]): void {
    super.log(sanitize(message), ...args);
  }

  override logToStderr(message = '', ...args: unknown[]): void {
    super.logToStderr(sanitize(message), ...args);
  }

  override warn(input: Error | string): Error | string {
    return super.warn(typeof input === 'string' ? sanitizeLine(input) : input);
  }

  /** In --json mode oclif prints the error object on stdout; keep the one-liner on stderr too. */
  protected override async catch(err: Error & { exitCode?: number }): Promise<unknown> {
    if (this.jsonEnabled()) {
      process.stderr.write(`${oneLine(err)}\n`);
    }
    return super.catch(err);
  }
}
