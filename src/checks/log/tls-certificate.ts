import { defineCheck } from '../types.js';
import { LOG_MESSAGES, reportSignatures, rowsOf, signaturesOf } from './lib/signatures.js';

const ID = 'log.tls.certificate';

export default defineCheck({
  meta: {
    id: 'log.tls.certificate',
    layer: 'log',
    title: 'Swarm TLS certificates',
    looksAt: 'dockerd\'s "x509: certificate has expired or is not yet valid" lines',
    remediation: signaturesOf(ID)[0]!.remediation,
    scope: 'node',
    failures: rowsOf(ID),
    messages: LOG_MESSAGES,
  },
  check: reportSignatures(ID),
});
