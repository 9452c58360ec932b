import { defineCheck } from '../types.js';
import { LOG_MESSAGES, reportSignatures, rowsOf, signaturesOf } from './lib/signatures.js';

const ID = 'log.gossip.flapping';

export default defineCheck({
  meta: {
    id: 'log.gossip.flapping',
    layer: 'log',
    title: 'Gossip members suspected or marked failed',
    looksAt: "dockerd's memberlist Suspect / Marking \u2026 as failed / Refuting lines, per peer",
    remediation: signaturesOf(ID)[0]!.remediation,
    scope: 'node',
    failures: rowsOf(ID),
    messages: LOG_MESSAGES,
  },
  check: reportSignatures(ID),
});
