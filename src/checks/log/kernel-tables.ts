import { defineCheck } from '../types.js';
import { LOG_MESSAGES, reportSignatures, rowsOf, signaturesOf } from './lib/signatures.js';

const ID = 'log.kernel.tables';

export default defineCheck({
  meta: {
    id: 'log.kernel.tables',
    layer: 'log',
    title: 'Kernel neighbour and conntrack tables',
    looksAt: 'the kernel\'s "neighbor table overflow", "nf_conntrack: table full, dropping packet" and vxlan error lines (journalctl -k or dmesg)',
    remediation: signaturesOf(ID)[0]!.remediation,
    scope: 'node',
    failures: rowsOf(ID),
    messages: LOG_MESSAGES,
  },
  check: reportSignatures(ID),
});
