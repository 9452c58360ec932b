/**
 * dockerode, without loading what netdoctor does not use at startup.
 *
 * dockerode requires, at load time, its BuildKit session support
 * (`lib/session.js`: @grpc/grpc-js, @grpc/proto-loader, protobufjs) and
 * docker-modem requires its ssh transport (`lib/ssh.js`: ssh2). netdoctor
 * never builds images, and uses docker-modem's ssh transport only for an
 * ssh:// docker host; loading them costs about 0.2 s of every process start.
 *
 * Both are CommonJS modules that export one function. Before dockerode is
 * required, each one's entry in the CommonJS module cache is filled with a
 * stand-in whose export loads the real module on its first call and passes
 * the call on: behaviour is unchanged, only the loading is deferred.
 */
import { createRequire, Module } from 'node:module';
import { dirname, join } from 'node:path';
import type DockerodeType from 'dockerode';

const require = createRequire(import.meta.url);

/** Cache the file's module as a function that loads the real one when first called. */
function deferModule(file: string): void {
  if (Object.hasOwn(require.cache, file)) return;
  let real: ((...args: unknown[]) => unknown) | undefined;
  const load = (): ((...args: unknown[]) => unknown) => {
    if (real) return real;
    // Drop the stand-in so that require() reads the real file.
    delete require.cache[file];
    real = require(file) as (...args: unknown[]) => unknown;
    require.cache[file] = stub;
    return real;
  };
  const stub = new Module(file);
  stub.filename = file;
  stub.loaded = true;
  stub.exports = function deferred(this: unknown, ...args: unknown[]): unknown {
    return load().apply(this, args);
  };
  require.cache[file] = stub;
}

function loadDockerode(): typeof DockerodeType {
  try {
    const dockerodeMain = require.resolve('dockerode');
    deferModule(join(dirname(dockerodeMain), 'session.js'));
    const modemMain = createRequire(dockerodeMain).resolve('docker-modem');
    deferModule(join(dirname(modemMain), 'ssh.js'));
  } catch {
    // Another layout: load everything eagerly, as dockerode itself does.
  }
  return require('dockerode') as typeof DockerodeType;
}

const Dockerode = loadDockerode();
export default Dockerode;
