import { defineCheck } from '../types.js';
import { LOG_MESSAGES, reportSignatures, rowsOf, signaturesOf } from './lib/signatures.js';

const ID = 'log.encryption.rules';

export default defineCheck({
  meta: {
    id: 'log.encryption.rules',
    layer: 'log',
    title: 'Encrypted overlay iptables rules',
    looksAt: 'dockerd\'s "Couldn\'t load match \'u32\'" and "could not add input rule" lines',
    remediation: signaturesOf(ID)[0]!.remediation,
    scope: 'node',
    failures: rowsOf(ID),
    messages: LOG_MESSAGES,
  },
  check: reportSignatures(ID),
});
