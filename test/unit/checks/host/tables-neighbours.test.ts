import { readFileSync } from 'node:fs';
import check from '../../../../src/checks/host/tables-neighbours.js';
import type { ClusterSnapshot } from '../../../../src/snapshot/types.js';
import { checkTester } from '../../../support/check-tester.js';
import { failed, lab, labWith, ok, setSection } from '../../../support/lab-mutate.js';
import { withSysctl } from './sysctl.js';

/** /proc/net/stat/arp_cache as a real 2-CPU host printed it (entries 0x1e = 30, table_fulls 0x35070 + 0x34569). */
const ARP_CACHE = readFileSync(new URL('../../../fixtures/host/arp-cache-2cpu.txt', import.meta.url), 'utf8');
/** The same rows with another global entry count. */
const withEntries = (n: number) => ARP_CACHE.replace(/^0000001e/gm, n.toString(16).padStart(8, '0'));

/** A host node: arp_cache readable and gc_thresh3 at the kernel default 1024. */
const host = (arp: string, limit = '1024') =>
  labWith((s: ClusterSnapshot) => {
    for (const n of ['nd1', 'nd2', 'nd3']) {
      setSection(s, n, 'host/arp-cache', ok(arp));
      withSysctl(s, n, 'net/ipv4/neigh/default/gc_thresh3', limit);
    }
  });

checkTester(check, {
  valid: [
    {
      name: 'the lab: nodes are network namespaces without /proc/net/stat/arp_cache',
      snapshot: () =>
        labWith((s) => {
          for (const n of ['nd1', 'nd2', 'nd3'])
            setSection(s, n, 'host/arp-cache', failed('no /proc/net/stat/arp_cache: not the host network namespace, or no IPv4'));
        }),
      skips: ['nd1', 'nd2', 'nd3'].map((node) => ({ status: 'skip' as const, messageId: 'unreadable', node })),
    },
    {
      name: 'the recording predates the section',
      snapshot: lab,
      skips: ['nd1', 'nd2', 'nd3'].map((node) => ({ status: 'skip' as const, messageId: 'unreadable', node })),
    },
    { name: 'a real host: 30 entries of 1024', snapshot: () => host(ARP_CACHE), passes: [{ status: 'pass', messageId: 'ok', node: 'nd2' }] },
    {
      name: 'gc_thresh3 unreadable',
      snapshot: () => host(ARP_CACHE, '<absent>'),
      skips: ['nd1', 'nd2', 'nd3'].map((node) => ({ status: 'skip' as const, messageId: 'noLimit', node })),
    },
  ],
  invalid: [
    {
      name: '832 of 1024 entries (81 %)',
      snapshot: () => host(withEntries(832)),
      errors: ['nd1', 'nd2', 'nd3'].map((node) => ({ status: 'warn' as const, messageId: 'near', node })),
    },
    {
      name: '1100 entries over gc_thresh3 = 1024',
      snapshot: () => host(withEntries(1100)),
      errors: ['nd1', 'nd2', 'nd3'].map((node) => ({ status: 'fail' as const, messageId: 'full', node })),
    },
  ],
});
