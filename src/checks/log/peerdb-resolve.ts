import { defineCheck } from '../types.js';
import { LOG_MESSAGES, reportSignatures, rowsOf, signaturesOf } from './lib/signatures.js';

const ID = 'log.peerdb.resolve';

export default defineCheck({
  meta: {
    id: 'log.peerdb.resolve',
    layer: 'log',
    title: 'Overlay peer resolution',
    looksAt: 'dockerd\'s "could not resolve peer" lines (NetworkDB has no entry for a destination)',
    remediation: signaturesOf(ID)[0]!.remediation,
    scope: 'node',
    failures: rowsOf(ID),
    messages: LOG_MESSAGES,
  },
  check: reportSignatures(ID),
});
