import { defineCheck } from '../types.js';
import { LOG_MESSAGES, reportSignatures, rowsOf, signaturesOf } from './lib/signatures.js';

const ID = 'log.encryption.sa';

export default defineCheck({
  meta: {
    id: 'log.encryption.sa',
    layer: 'log',
    title: 'Encrypted overlay security associations',
    looksAt: 'dockerd\'s "Failed Adding fSA/rSA" lines (kernel refuses XFRM states)',
    remediation: signaturesOf(ID)[0]!.remediation,
    scope: 'node',
    failures: rowsOf(ID),
    messages: LOG_MESSAGES,
  },
  check: reportSignatures(ID),
});
