import { shq, prose } from '../../text/shell.js';
import { defineCheck } from '../types.js';

export default defineCheck({
  meta: {
    id: 'overlay.datapath.mtu',
    layer: 'overlay',
    title: 'Full-size overlay packets cross the data path',
    looksAt: "active probe: don't-fragment ping of the overlay MTU between sandboxes on two nodes (recorded probe results)",
    remediation:
      'Lower the overlay MTU to the path MTU minus 50 (docker network create --opt com.docker.network.driver.mtu=<n>), or fix the underlay path MTU; make sure ICMP "fragmentation needed" is not filtered',
    scope: 'cluster',
    failures: [2],
    needs: ['probes'],
    causedBy: ['overlay.mtu.consistent', 'underlay.mtu.path'],
    messages: {
      pathUnconfirmed: 'data path {from} → {to} not confirmed (see overlay.datapath.reachable)',
      notRun: 'full-size probe {from} → {to} was not run',
      ok: 'full-size DF ping {from} → {to} on {network} went through',
      blocked:
        "small packets cross {from} → {to} on {network} but full-size (overlay MTU, don't fragment) ones do not: MTU problem on the path; connections hang once data flows",
      unconfirmed: 'could not confirm full-size packets {from} → {to} on {network}{detail}',
      noProbes: 'no data-path probes were recorded',
      notJoined:
        'no data-path probes: a gate pings the data path of the overlays the stack joins only, and none of them exists yet with endpoints on two of its nodes (a network the stack creates has none before the deploy)',
    },
  },
  check({ model, report }) {
    const probes = model.probes!;
    for (const p of probes.dataPath) {
      const at = { node: p.from, peer: p.to, network: p.network };
      const data = { from: p.from, to: p.to, network: p.network };
      if (p.state !== 'ok') report('skip', 'pathUnconfirmed', data, at);
      else if (p.dfState === null) report('skip', 'notRun', data, at);
      else if (p.dfState === 'ok') report('pass', 'ok', data, at);
      else if (p.dfState === 'blocked') {
        const peerIp = model.ipByName.get(p.to);
        const remediation =
          `find the path MTU between ${prose(p.from)} and ${prose(p.to)} (on ${prose(p.from)}: ping -M do -s <size> ${peerIp !== undefined ? shq(peerIp) : '<peer ip>'}); ` +
          'lower the overlay MTU to it minus 50 (docker network create --opt com.docker.network.driver.mtu=<n>) or fix the underlay; do not filter ICMP type 3 code 4';
        report('fail', 'blocked', data, { ...at, remediation });
      } else {
        report(
          'warn',
          'unconfirmed',
          { ...data, detail: p.detail ? `: ${p.detail}` : '' },
          {
            ...at,
            remediation: `re-run with probes; by hand: ping -M do -s <size> between sandboxes of ${prose(p.network)} on ${prose(p.from)} and ${prose(p.to)}`,
          },
        );
      }
    }
    if (probes.dataPath.length === 0) report('skip', model.stack ? 'notJoined' : 'noProbes');
  },
});
