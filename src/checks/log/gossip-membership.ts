import { defineCheck } from '../types.js';
import { LOG_MESSAGES, reportSignatures, rowsOf, signaturesOf } from './lib/signatures.js';

const ID = 'log.gossip.membership';

export default defineCheck({
  meta: {
    id: 'log.gossip.membership',
    layer: 'log',
    title: 'Gossip join/leave storms',
    looksAt: 'NetworkDB "Node join/leave event" lines repeated 3 times or more for one peer',
    remediation: signaturesOf(ID)[0]!.remediation,
    scope: 'node',
    failures: rowsOf(ID),
    messages: LOG_MESSAGES,
  },
  check: reportSignatures(ID),
});
