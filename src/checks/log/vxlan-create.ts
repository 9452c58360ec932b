import { defineCheck } from '../types.js';
import { LOG_MESSAGES, reportSignatures, rowsOf, signaturesOf } from './lib/signatures.js';

const ID = 'log.vxlan.create';

export default defineCheck({
  meta: {
    id: 'log.vxlan.create',
    layer: 'log',
    title: 'VXLAN device creation',
    looksAt: 'dockerd\'s "error creating vxlan interface" lines (file exists, operation not supported)',
    remediation: signaturesOf(ID)[0]!.remediation,
    scope: 'node',
    failures: rowsOf(ID),
    messages: LOG_MESSAGES,
  },
  check: reportSignatures(ID),
});
