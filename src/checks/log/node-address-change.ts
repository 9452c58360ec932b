import { defineCheck } from '../types.js';
import { LOG_MESSAGES, reportSignatures, rowsOf, signaturesOf } from './lib/signatures.js';

const ID = 'log.node.address-change';

export default defineCheck({
  meta: {
    id: 'log.node.address-change',
    layer: 'log',
    title: 'Node address changes',
    looksAt: 'dockerd\'s "detected address change for" lines',
    remediation: signaturesOf(ID)[0]!.remediation,
    scope: 'node',
    failures: rowsOf(ID),
    messages: LOG_MESSAGES,
  },
  check: reportSignatures(ID),
});
