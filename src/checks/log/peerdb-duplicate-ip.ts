import { defineCheck } from '../types.js';
import { LOG_MESSAGES, reportSignatures, rowsOf, signaturesOf } from './lib/signatures.js';

const ID = 'log.peerdb.duplicate-ip';

export default defineCheck({
  meta: {
    id: 'log.peerdb.duplicate-ip',
    layer: 'log',
    title: 'Duplicate overlay addresses',
    looksAt: 'dockerd\'s "peerDbAdd transient condition" lines (two endpoints with one IP)',
    remediation: signaturesOf(ID)[0]!.remediation,
    scope: 'node',
    failures: rowsOf(ID),
    messages: LOG_MESSAGES,
  },
  check: reportSignatures(ID),
});
