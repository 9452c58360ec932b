import type { MtuProbe } from '../../probe/types.js';
import { defineCheck, type Status } from '../types.js';
import { prose } from '../../text/shell.js';

const STATUS: Record<MtuProbe['state'], Status> = { ok: 'pass', blocked: 'fail', unconfirmed: 'warn' };

export default defineCheck({
  meta: {
    id: 'underlay.mtu.path',
    layer: 'underlay',
    title: 'Path MTU carries overlay MTU + 50 bytes of VXLAN',
    looksAt: 'ping with DF set, sized to the overlay MTU plus VXLAN overhead, between every ordered pair of nodes',
    remediation:
      'raise the underlay MTU on the path (ip link set <dev> mtu 1500) or create overlays for the smaller path: docker network create -d overlay --opt com.docker.network.driver.mtu=<underlay MTU> … (the option is the underlay packet size; docker gives the tasks 50 bytes less)',
    scope: 'cluster',
    failures: [2],
    needs: ['probes'],
    messages: {
      ok: '{from} → {to}: {detail}',
      blocked: '{from} → {to}: {detail}',
      unconfirmed: '{from} → {to}: {detail}',
    },
  },
  check({ model, report }) {
    for (const m of model.probes!.mtu) {
      const status = STATUS[m.state];
      const remediation = `raise the MTU of every link on the path ${prose(m.from)} → ${prose(m.to)} to at least ${m.required} bytes (ip link set <dev> mtu ${m.required}), or create the overlays for this path: docker network create -d overlay --opt com.docker.network.driver.mtu=<path MTU> … (the option is the underlay packet size; docker gives the tasks 50 bytes less)`;
      report(
        status,
        m.state,
        { from: m.from, to: m.to, detail: m.detail },
        { node: m.from, peer: m.to, ...(status === 'pass' ? {} : { remediation }) },
      );
    }
  },
});
