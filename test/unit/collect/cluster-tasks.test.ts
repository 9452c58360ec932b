/**
 * Which of the manager's tasks a snapshot keeps (collect/cluster.ts
 * tasksToKeep), on the recorded rollout (test/fixtures/lab/ctlplane-rollout:
 * roll.2's old task desired shutdown and still running, its replacement
 * desired ready): everything that holds an address or just finished, no
 * older history; and the services' running tasks are those the swarm wants running.
 */
import { describe, expect, it } from 'vitest';
import { buildClusterFacts, tasksToKeep } from '../../../src/collect/cluster.js';
import { recordedCluster } from '../../support/lab-fixtures.js';

type J = Record<string, any>;

const raw = recordedCluster('ctlplane-rollout');
const tasks = raw.tasks as J[];
const now = Date.parse(String((raw.info as J).SystemTime));
const oldRoll2 = tasks.find((t) => String(t.ID).startsWith('bgyszkh0'))!;

/** The old roll.2 as it is once stopped, `ageSec` before the manager answered. */
function finished(ageSec: number): J {
  const t = structuredClone(oldRoll2);
  t.ID = `done${ageSec}`;
  Object.assign(t.Status, { State: 'shutdown', Timestamp: new Date(now - ageSec * 1000).toISOString() });
  return t;
}

describe('tasksToKeep', () => {
  it('keeps every task of the recorded rollout: desired running, desired ready (ready) and desired shutdown (still running)', () => {
    expect(tasks.map((t) => `${t.DesiredState}/${t.Status.State}`).sort()).toEqual([
      'ready/ready',
      'running/running',
      'running/running',
      'running/running',
      'running/running',
      'running/running',
      'shutdown/running',
    ]);
    expect(tasksToKeep(tasks, now)).toHaveLength(tasks.length);
  });

  it('keeps a task finished 5 minutes ago, drops one finished 11 minutes ago', () => {
    const kept = tasksToKeep([...tasks, finished(300), finished(660)], now).map((t) => String(t.ID));
    expect(kept).toContain('done300');
    expect(kept).not.toContain('done660');
  });

  it("keeps everything when the manager's clock is unknown", () => {
    expect(tasksToKeep([finished(660)], Number.NaN)).toHaveLength(1);
  });
});

describe('running tasks of a service', () => {
  it('are those running that the swarm wants running: not the old roll.2 being shut down', () => {
    const roll = buildClusterFacts(raw).services.find((s) => s.name === 'roll')!;
    expect(roll.runningTasks.map((t) => t.slot).sort()).toEqual([1, 3]);
  });
});
