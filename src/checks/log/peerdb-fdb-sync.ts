import { defineCheck } from '../types.js';
import { LOG_MESSAGES, reportSignatures, rowsOf, signaturesOf } from './lib/signatures.js';

const ID = 'log.peerdb.fdb-sync';

export default defineCheck({
  meta: {
    id: 'log.peerdb.fdb-sync',
    layer: 'log',
    title: 'Overlay peer DB vs kernel FDB',
    looksAt:
      'dockerd\'s "Peer delete operation failed", "Peer entry was not in db", "could not delete fdb entry" and "Neighbor entry already present" lines',
    remediation: signaturesOf(ID)[0]!.remediation,
    scope: 'node',
    failures: rowsOf(ID),
    messages: LOG_MESSAGES,
  },
  check: reportSignatures(ID),
});
