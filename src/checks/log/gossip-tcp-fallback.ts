import { defineCheck } from '../types.js';
import { LOG_MESSAGES, reportSignatures, rowsOf, signaturesOf } from './lib/signatures.js';

const ID = 'log.gossip.tcp-fallback';

export default defineCheck({
  meta: {
    id: 'log.gossip.tcp-fallback',
    layer: 'log',
    title: 'Gossip TCP fallback ping',
    looksAt: 'dockerd\'s memberlist "Failed fallback ping" lines (tcp/7946 failing too), per peer address',
    remediation: signaturesOf(ID)[0]!.remediation,
    scope: 'node',
    failures: rowsOf(ID),
    messages: LOG_MESSAGES,
  },
  check: reportSignatures(ID),
});
