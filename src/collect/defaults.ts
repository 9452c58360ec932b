/** Collection defaults, apart from collect.ts so that flag definitions load no SSH code. */
export const COLLECT_DEFAULTS = {
  concurrency: 64,
  connectTimeoutMs: 10_000,
  nodeTimeoutMs: 60_000,
  keepaliveIntervalMs: 5_000,
} as const;
