import { defineCheck } from '../types.js';
import { LOG_MESSAGES, reportSignatures, rowsOf, signaturesOf } from './lib/signatures.js';

const ID = 'log.gossip.health';

export default defineCheck({
  meta: {
    id: 'log.gossip.health',
    layer: 'log',
    title: 'Memberlist health score',
    looksAt: 'NetworkDB stats lines with healthscore above 0',
    remediation: signaturesOf(ID)[0]!.remediation,
    scope: 'node',
    failures: rowsOf(ID),
    messages: LOG_MESSAGES,
  },
  check: reportSignatures(ID),
});
