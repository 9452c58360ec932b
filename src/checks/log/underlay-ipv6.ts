import { defineCheck } from '../types.js';
import { LOG_MESSAGES, reportSignatures, rowsOf, signaturesOf } from './lib/signatures.js';

const ID = 'log.underlay.ipv6';

export default defineCheck({
  meta: {
    id: 'log.underlay.ipv6',
    layer: 'log',
    title: 'IPv6-only underlay',
    looksAt: 'dockerd\'s "Assuming IPv4 transport" lines',
    remediation: signaturesOf(ID)[0]!.remediation,
    scope: 'node',
    failures: rowsOf(ID),
    messages: LOG_MESSAGES,
  },
  check: reportSignatures(ID),
});
