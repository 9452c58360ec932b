/**
 * The library behind the plugin: collect a snapshot, analyse it, render a
 * report. Commands in src/commands are thin wrappers over these.
 */
export { ExitCode, NetdoctorError } from './errors.js';
export { resolveEndpoint, type DockerGlobalOptions, type ResolvedEndpoint } from './docker/endpoint.js';
export { createDockerClient, requireSwarmManager } from './docker/client.js';
export { collectClusterFacts, collectNode, type CollectOptions } from './collect/collect.js';
export { analyse, runCheck, runCollect, type CheckRunOptions } from './run/check.js';
export { buildModel } from './model/build.js';
export type { Model } from './model/types.js';
export { REGISTRY, selectChecks, type Selection } from './checks/registry.js';
export { runChecks, summarise } from './checks/runner.js';
export type { Check, CheckMeta, Finding, Layer, Status } from './checks/types.js';
export { buildReport, reportFailed, type Report } from './report/model.js';
export { render, FORMATS, type Format } from './report/render.js';
export { parseSnapshot, readSnapshot } from './snapshot/io.js';
export { SNAPSHOT_SCHEMA_VERSION, type ClusterSnapshot, type NodeSnapshot } from './snapshot/types.js';
export { readBundle } from './bundle/read.js';
