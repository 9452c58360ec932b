import { it } from 'vitest';
import { runChecks } from '../../../src/checks/runner.js';
import views from '../../../src/checks/overlay/networkdb-views.js';
import dup from '../../../src/checks/overlay/ipam-duplicate.js';
import pending from '../../../src/checks/cluster/tasks-pending.js';
import dns from '../../../src/checks/service/dns-records.js';
import { labSnapshot } from '../../support/lab-fixtures.js';
it('prints', () => {
  for (const sc of ['ctlplane', 'ctlplane-ipam', 'ctlplane-diverged']) {
    const s = labSnapshot(sc);
    const fs = runChecks({ snapshot: s, probes: null }, {}, [views, dup, pending, dns]);
    console.log(sc + '\n' + fs.map((f) => `${f.status} ${f.id} ${f.node} ${f.network}: ${f.detail}\n   -> ${f.remediation}`).join('\n'));
  }
});
