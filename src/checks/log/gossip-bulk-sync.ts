import { defineCheck } from '../types.js';
import { LOG_MESSAGES, reportSignatures, rowsOf, signaturesOf } from './lib/signatures.js';

const ID = 'log.gossip.bulk-sync';

export default defineCheck({
  meta: {
    id: 'log.gossip.bulk-sync',
    layer: 'log',
    title: 'NetworkDB bulk sync',
    looksAt: 'dockerd\'s "Bulk sync to node \u2026 timed out" lines, per peer',
    remediation: signaturesOf(ID)[0]!.remediation,
    scope: 'node',
    failures: rowsOf(ID),
    messages: LOG_MESSAGES,
  },
  check: reportSignatures(ID),
});
