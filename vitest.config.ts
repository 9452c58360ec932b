import { defineConfig } from 'vitest/config';
import E2eSequencer from './test/support/e2e-sequencer.js';

// Fast unit tests on recorded outputs (the check tests on both engines' recordings), and end-to-end tests
// against the real lab swarm (root, Linux; brought up once by globalSetup).
export default defineConfig({
  test: {
    reporters: ['default', './test/support/summary-reporter.ts'],
    // Files whose faults outlive them (the machine's kernel log) run last: test/support/e2e-sequencer.ts.
    sequence: { sequencer: E2eSequencer },
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        // The check tests again on the Docker 26 lab recording (test/fixtures/lab/healthy-26):
        // 26 programs other iptables chains and sandboxes than 20.10 (test/support/lab-mutate.ts).
        test: {
          name: 'unit-26',
          include: ['test/unit/checks/**/*.test.ts'],
          exclude: [
            // golden.test.ts names each recording itself (healthy, healthy-26, mixed).
            'test/unit/checks/golden.test.ts',
            // These write faults by task: web.1 on nd2 at 10.0.1.3 and so on, where the
            // 20.10 recording's scheduler put them; the 26 recording placed the tasks elsewhere.
            'test/unit/checks/service.test.ts',
            'test/unit/checks/overlay/overlay.tester.test.ts',
            'test/unit/checks/overlay/sandbox-vxlan.test.ts',
          ],
          environment: 'node',
          env: { ND_FIXTURE_ENGINE: '26' },
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/e2e/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 300_000,
          pool: 'forks',
          poolOptions: { forks: { singleFork: true } },
        },
      },
    ],
  },
});
