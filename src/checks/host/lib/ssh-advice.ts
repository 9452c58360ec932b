/**
 * The one place that says what a failed collection stage means and how to
 * fix it: the stage's words (`unreachable`, `sudo needs a password` …), the
 * SSH target as netdoctor used it, and the advice with the exact `ssh`,
 * `ssh -J`, `ssh-keygen -R` and sudoers lines to try. Every value taken from
 * the target goes through shq.
 */
import { COLLECTION_STAGES, type CollectionError, type CollectionStage, type NodeSnapshot } from '../../../snapshot/types.js';
import { code, prose, shq } from '../../../text/shell.js';

type Target = NodeSnapshot['target'];

export const STAGE_TEXT: Record<CollectionStage, string> = {
  connect: 'unreachable',
  timeout: 'unreachable (timed out)',
  auth: 'SSH authentication failed',
  hostkey: 'SSH host key not trusted',
  sudo: 'sudo needs a password',
  exec: 'collection failed',
  parse: 'collection output unreadable',
};

/** The stage of an error as a known stage: a snapshot from a bundle may hold anything there. */
export function stageOf(e: Pick<CollectionError, 'stage'> | undefined): CollectionStage {
  const s: string | undefined = e?.stage;
  return (COLLECTION_STAGES as readonly string[]).includes(s ?? '') ? (s as CollectionStage) : 'exec';
}

/** `user@host:port via hop,…` for findings. */
export const targetText = (t: Target): string => `${t.user}@${t.host}:${t.port}${t.via.length ? ` via ${t.via.join(',')}` : ''}`;

/** The ssh command line that tests what netdoctor does, jump hosts included. */
export const sshTest = (t: Target): string =>
  `ssh -p ${shq(t.port)}${t.via.length ? ` -J ${shq(t.via.join(','))}` : ''} ${shq(`${t.user}@${t.host}`)} true`;

/** How known_hosts names the host (`[host]:port` off port 22), as ssh-keygen -R wants it. */
const knownHostsName = (t: Target): string => (t.port === 22 ? t.host : `[${t.host}]:${t.port}`);

/** A sudoers user field only when it is a plain name (anything else would need sudoers' own escaping). */
const sudoersUser = (user: string): string => (/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(user) ? user : '<user>');

/** What to do about a node whose collection failed at `stage`. */
export function sshAdvice(name: string, t: Target, stage: CollectionStage): string {
  const ssh = sshTest(t);
  switch (stage) {
    case 'connect':
    case 'timeout':
      return `Check that ${prose(name)} is up and sshd answers on ${prose(t.host)}:${t.port} (${code(`${ssh}`)}); if the swarm address is not the SSH address, map ${prose(name)} in --inventory or ssh_config; for slow nodes raise --connect-timeout/--node-timeout.`;
    case 'auth':
      return `Give netdoctor a key ${prose(name)} accepts for ${t.user}: load it in ssh-agent or pass -i/--identity (or set identity in --inventory); check the user (--ssh-user). Test with ${code(`${ssh}`)}.`;
    case 'hostkey':
      return `Verify ${prose(name)}'s host key out of band and record it (${code(`${ssh}`)} once, or --accept-new-host-keys for a first contact); a changed key must be cleared with ${code(`ssh-keygen -R ${shq(knownHostsName(t))}`)} after you have checked why it changed.`;
    case 'sudo':
      return `On ${prose(name)}: let ${t.user} run the read-only collection as root without a password (e.g. ${code(`${sudoersUser(t.user)} ALL=(root) NOPASSWD: /bin/sh`)} in /etc/sudoers.d/netdoctor), or connect as root (--ssh-user root).`;
    case 'exec':
    case 'parse':
      return `Re-run the collection for ${prose(name)} (${code(`--node ${shq(name)}`)}); if it fails again, run ${code(`${ssh}`)} and look at the error text above.`;
  }
}
