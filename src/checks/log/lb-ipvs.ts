import { defineCheck } from '../types.js';
import { LOG_MESSAGES, reportSignatures, rowsOf, signaturesOf } from './lib/signatures.js';

const ID = 'log.lb.ipvs';

export default defineCheck({
  meta: {
    id: 'log.lb.ipvs',
    layer: 'log',
    title: 'Load balancer programming',
    looksAt:
      'dockerd\'s "Could not get ipvs family information", "Failed to add firewall mark rule in sbox" and "Failed to create real server" lines',
    remediation: signaturesOf(ID)[0]!.remediation,
    scope: 'node',
    failures: rowsOf(ID),
    // dockerd says so because the kernel has no IPVS: under that problem when the run found it, on its own otherwise.
    causedBy: ['service.ingress.ipvs-available', 'host.kernel.modules'],
    messages: LOG_MESSAGES,
  },
  check: reportSignatures(ID),
});
