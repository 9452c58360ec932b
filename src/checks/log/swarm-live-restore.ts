import { defineCheck } from '../types.js';
import { LOG_MESSAGES, reportSignatures, rowsOf, signaturesOf } from './lib/signatures.js';

const ID = 'log.swarm.live-restore';

export default defineCheck({
  meta: {
    id: 'log.swarm.live-restore',
    layer: 'log',
    title: 'Swarm mode vs live-restore',
    looksAt: 'dockerd\'s "--live-restore daemon configuration is incompatible with swarm mode" lines',
    remediation: signaturesOf(ID)[0]!.remediation,
    scope: 'node',
    failures: rowsOf(ID),
    messages: LOG_MESSAGES,
  },
  check: reportSignatures(ID),
});
