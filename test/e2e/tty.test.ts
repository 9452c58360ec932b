/**
 * The staged view as an operator sees it: in a real terminal (tmux) the live
 * listr2 tree with a timer per node; without a terminal, plain lines on
 * stderr and nothing but the report on stdout.
 */
import { execFileSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { labEnsure, type LabState } from '../lab/lab.js';
import { BIN } from './support/cli.js';
import { managerHost, nd } from './support/netdoctor.js';

let lab: LabState;
beforeAll(async () => {
  lab = await labEnsure();
});

const tmux = (...args: string[]) => execFileSync('tmux', ['-L', 'nd-e2e', ...args], { encoding: 'utf8' });

describe('staged progress', () => {
  it('on a TTY: the live tree, each node a subtask with its status and timer, then the summary', async () => {
    const cmd = `${BIN} -H ${managerHost(lab)} check --no-probe --only host -i ${lab.sshKey} --known-hosts ${lab.knownHosts} --ssh-config none; sleep 30`;
    tmux('new-session', '-d', '-s', 'nd', '-x', '160', '-y', '60', cmd);
    try {
      let screen = '';
      for (let i = 0; i < 60 && !/\d+ passed, \d+ warnings/.test(screen); i++) {
        await new Promise((r) => setTimeout(r, 500));
        screen = tmux('capture-pane', '-p', '-t', 'nd');
      }
      expect(screen).toMatch(/✔ Discover cluster: 3 nodes, 2 overlay networks, manager nd1 \[/);
      for (const n of lab.nodes) expect(screen).toMatch(new RegExp(`  ✔ ${n.name}: \\d+ sandboxes \\(\\d+ overlay\\), \\d+ ms \\[\\d`));
      expect(screen).toMatch(/↓ Probe: skipped \(--no-probe\)/);
      expect(screen).toMatch(/✔ Analyse: \d+ findings/);
      // The report opens with its problems and ends with the layer line (problems before rows).
      expect(screen).toMatch(/^\d+ problems?: /m);
      expect(screen).toMatch(/^passed by layer: host \d+\/\d+/m);
    } finally {
      tmux('kill-server');
    }
  });

  it('without a TTY: plain progress lines on stderr, only the report on stdout', async () => {
    const r = await nd(['check', '--no-probe', '--only', 'host']);
    expect(r.stderr).toMatch(/Discover cluster: 3 nodes/);
    expect(r.stderr).not.toMatch(/\u001b\[\?25l/); // no cursor games
    expect(r.stdout).toMatch(/^\d+ problems?: /);
    expect(r.stdout).toMatch(/^passed by layer: /m);
    expect(r.stdout).not.toMatch(/Discover cluster/);
  });
});
