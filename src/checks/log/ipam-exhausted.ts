import { defineCheck } from '../types.js';
import { LOG_MESSAGES, reportSignatures, rowsOf, signaturesOf } from './lib/signatures.js';

const ID = 'log.ipam.exhausted';

export default defineCheck({
  meta: {
    id: 'log.ipam.exhausted',
    layer: 'log',
    title: 'Overlay address allocation',
    looksAt: 'dockerd\'s "failed to allocate network IP for task", "could not find an available IP" and "invalid pool request: Pool overlaps" lines',
    remediation: signaturesOf(ID)[0]!.remediation,
    scope: 'node',
    failures: rowsOf(ID),
    messages: LOG_MESSAGES,
  },
  check: reportSignatures(ID),
});
