import { describe, expect, it } from 'vitest';
import { runChecks } from '../../../../src/checks/runner.js';
import { buildReport } from '../../../../src/report/model.js';
import { renderText } from '../../../../src/report/render.js';
import { probesFor } from '../../../support/lab-scale.js';
import { labWith, nodeOf, ok, setSection } from '../../../support/lab-mutate.js';

describe('a receiver INPUT rule dropping udp/4789 (issue 14: the nd7 case)', () => {
  // The lab recording with the rule the issue found on nd7, on nd3; the captures saw the datagrams arrive (the capture precedes INPUT).
  const s = labWith((x) => {
    const text = nodeOf(x, 'nd3').raw['host/iptables-save']!.stdout;
    setSection(
      x,
      'nd3',
      'host/iptables-save',
      ok(text.replace(':DOCKER-USER - [0:0]\n', ':DOCKER-USER - [0:0]\n-A INPUT -p udp -m udp --dport 4789 -j DROP\n')),
    );
  });
  const findings = runChecks({ snapshot: s, probes: probesFor(s, () => false) });
  const drops = findings.filter((f) => f.id === 'underlay.datapath.udp' && f.status === 'fail');

  it('names the rule once per sender and removes exactly it, on the receiver only (no OUTPUT change, no placeholder)', () => {
    expect(drops.map((f) => [f.messageId, f.node, f.peer])).toEqual([
      ['receiverDrops', 'nd1', 'nd3'],
      ['receiverDrops', 'nd2', 'nd3'],
    ]);
    for (const f of drops) {
      expect(f.remediation).toMatch(/^on nd3: iptables -D INPUT -p udp -m udp --dport 4789 -j DROP \(the rule that drops it/);
      expect(f.remediation).not.toMatch(/OUTPUT|</);
    }
  });

  it('folds into one problem "from nd1 and nd2 to nd3", under the firewall rule that causes it, with one fix', () => {
    const r = buildReport(s, findings, '0.0.0-test', new Date(), 1000);
    const p = r.problems.filter((x) => x.check === 'underlay.datapath.udp');
    expect(p).toHaveLength(1);
    expect(p[0]!.pairs).toEqual([
      { from: 'nd1', to: 'nd3' },
      { from: 'nd2', to: 'nd3' },
    ]);
    expect(p[0]!.causedBy).toMatch(/^host\.firewall\.ports:/);
    const t = renderText(r, { color: false });
    expect(t).toContain('↳ ✖ Overlay data-path port reachable (VXLAN over UDP) — from nd1 and nd2 to nd3  (underlay.datapath.udp)');
    expect(t.split('\n').filter((l) => l.includes('fix: ') && l.includes('4789'))).toHaveLength(1);
    expect(t).toMatch(/\nnd1 +· +\. +V\n/);
  });
});
