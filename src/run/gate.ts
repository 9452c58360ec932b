/**
 * The pre-deploy gate: read the stack as `docker stack deploy` will, plan it
 * against the cluster (manager API only with --no-live), and, live, run the
 * check engine on the nodes the stack can land on. Only what the stack
 * depends on says no-go: a problem it does not touch is downgraded to a
 * warning that says why it does not block.
 */
import type Dockerode from 'dockerode';
import type { CollectOptions } from '../collect/collect.js';
import { runChecks } from '../checks/runner.js';
import { encryptedNetworks } from '../checks/stack/lib.js';
import type { Finding } from '../checks/types.js';
import type { ResolvedEndpoint } from '../docker/endpoint.js';
import { buildModel } from '../model/build.js';
import { buildStackModel, type StackModel } from '../model/stack.js';
import type { ProbeOptions } from '../probe/run.js';
import type { ProgressOptions } from '../report/progress.js';
import { openProgress } from '../report/progress-lazy.js';
import { buildReport, type Report } from '../report/model.js';
import { normaliseStack } from '../stack/normalise.js';
import { Locator, stackConfig } from '../stack/read.js';
import type { Stack } from '../stack/types.js';
import { gateScope, publishesIngress as publishesInIngress } from './gate-scope.js';
import { assembleSnapshot, collectAndProbe, discover } from './pipeline.js';

export interface GateOptions {
  files: string[];
  stackName: string;
  live: boolean;
  collect: CollectOptions;
  probe: ProbeOptions | null;
  progress: ProgressOptions;
  toolVersion: string;
}

export interface GateResult {
  stack: Stack;
  report: Report;
}

/** Read and plan the stack: `docker stack config`, then normalise; errors are one line (exit 2, or 3 without a docker CLI). */
export async function readStack(files: string[], stackName: string): Promise<{ stack: Stack; locator: Locator }> {
  const text = await stackConfig(files);
  const stack = normaliseStack(
    text,
    stackName,
    files.map((path) => ({ path })),
  );
  return { stack, locator: await Locator.load(stack.files) };
}

/** Why a finding of the general checks does not concern this stack, or null when it does. */
export function notBlocking(f: Finding, st: StackModel): string | null {
  const nets = new Set(st.networks.map((n) => n.net.name));
  const publishesIngress = publishesInIngress(st);
  if (f.node !== null && !st.candidateNodes.has(f.node)) return `${f.node} is not a node the stack can run on`;
  if (f.peer !== null && !st.candidateNodes.has(f.peer)) return `${f.peer} is not a node the stack can run on`;
  if (f.network !== null && !nets.has(f.network) && !(f.network === 'ingress' && publishesIngress)) return `the stack does not join ${f.network}`;
  if (f.id.startsWith('service.ingress.') && !publishesIngress) return 'the stack publishes no port in ingress mode';
  // dockerd's own word on IPVS or IPsec concerns a stack only when it uses them.
  const usesIpvs = publishesIngress || st.stack.services.some((s) => s.endpointMode === 'vip');
  if (f.id === 'log.lb.ipvs' && !usesIpvs) return 'the stack uses no IPVS (dnsrr, nothing published in ingress mode)';
  const encrypted = st.networks.some((n) => n.net.encrypted || n.existing?.encrypted === true);
  if (f.id.startsWith('log.encryption.') && !encrypted) return 'the stack has no encrypted network';
  // What this stack needs of the kernel and the address pool is decided by the stack checks.
  if (f.id === 'host.kernel.modules' || f.id === 'cluster.subnets.overlap') return 'the stack.* checks judge what this stack needs';
  return null;
}

export function judge(findings: Finding[], st: StackModel): Finding[] {
  return findings.map((f) => {
    if (f.layer === 'stack' || (f.status !== 'fail' && f.status !== 'error')) return f;
    const why = notBlocking(f, st);
    return why === null ? f : { ...f, status: 'warn', detail: `${f.detail} (does not block this stack: ${why})` };
  });
}

/** The stack is read before the manager is asked, so a bad file is exit 2 wherever the gate runs (no manager needed). */
export async function runGate(manager: () => Promise<{ docker: Dockerode; endpoint: ResolvedEndpoint }>, o: GateOptions): Promise<GateResult> {
  const startedAt = new Date();
  // The Engine API client loads while `docker stack config` runs (no request is made before the file is read).
  import('../docker/client.js').catch(() => undefined);
  // Before any progress output: a bad file or an unreachable manager is one line on stderr (exit 2 or 3).
  const { stack, locator } = await readStack(o.files, o.stackName);
  const { docker, endpoint } = await manager();
  const view = await openProgress(
    o.live ? ['read-stack', 'discover', 'collect', 'probe', 'analyse'] : ['read-stack', 'discover', 'analyse'],
    o.progress,
  );
  const ev = view.events;
  try {
    ev.stageStart?.('read-stack');
    ev.stageEnd?.('read-stack', { summary: `${stack.name}: ${stack.services.length} services, ${stack.networks.length} networks` });
    // Live runs reach only the nodes the stack can land on.
    let plan: StackModel | undefined;
    const d = await discover(docker, o.collect, ev, {
      only: (facts) => (plan = buildStackModel(stack, facts, locator)).candidateNodes,
      sshTargets: o.live,
    });
    if (!plan) throw new Error('cluster discovery did not plan the stack');
    let snapshot = assembleSnapshot(d, [], endpoint, o.toolVersion, startedAt);
    // ESP is probed only between the candidate nodes of each of the stack's encrypted networks; DNS
    // asked and the data path pinged only on the networks the stack joins (gate-scope.ts).
    const scope = gateScope(plan, d.facts);
    const probe = o.probe && {
      ...o.probe,
      espGroups: encryptedNetworks(plan).map((x) => [...x.nodes].sort()),
      dataPathNetworks: scope.dataPathNetworks,
    };
    const collect = { ...o.collect, scope: scope.collect };
    if (o.live) snapshot = await collectAndProbe(d, collect, probe, { endpoint, toolVersion: o.toolVersion, startedAt }, ev);
    ev.stageStart?.('analyse');
    const model = buildModel(snapshot, plan);
    const findings = judge(runChecks(model, o.live ? { stack: true } : { stack: true, only: ['stack'] }), plan);
    const fails = findings.filter((f) => f.status === 'fail' || f.status === 'error').length;
    ev.stageEnd?.('analyse', { summary: fails === 0 ? 'go' : `no-go: ${fails} blocking` });
    const report = buildReport(snapshot, findings, o.toolVersion, startedAt, Date.now() - startedAt.getTime());
    return { stack, report: { ...report, stack: { name: stack.name, files: stack.files.map((f) => f.path) } } };
  } finally {
    await view.close();
  }
}
