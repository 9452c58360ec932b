/**
 * Host faults of issue 13 caused for real inside the lab nodes, then undone:
 *  - nd2: FORWARD policy DROP plus a ufw-style `ufw-user-forward` chain that
 *    drops, reached from DOCKER-USER (ufw-docker's layout): a task there
 *    really loses its way out (ping to the lab bridge fails) and
 *    host.firewall.forward names the rule (row 27);
 *  - nd1: a resolver inside the ndnet overlay subnet in the node's own
 *    /etc/resolv.conf (a bind mount in the node's private mount namespace),
 *    host.dns.nameservers names it (row 18);
 *  - nd3: a LAN route for exactly docker_gwbridge's subnet, which
 *    host.gwbridge.egress names (row 19).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../../src/checks/types.js';
import type { Report } from '../../src/report/model.js';
import { labDown, labUp, nodeDocker, nodeExec, type LabState } from '../lab/lab.js';
import { check } from './support/netdoctor.js';

let lab: LabState;
const NS_FILE = '/tmp/nd-e2e-resolv.conf';

const findings = (r: Report, id: string, node: string): Finding[] => r.findings.filter((f) => f.id === id && f.node === node);
const shown = (fs: Finding[]) => fs.map((f) => `${f.status} ${f.messageId}: ${f.detail}`).join('\n');

async function sh(node: string, cmd: string): Promise<string> {
  const r = await nodeExec(node, cmd);
  expect(r.code, `${node}: ${cmd}\n${r.stderr}`).toBe(0);
  return r.stdout.trim();
}

/** A running web task on `node`, to ping from. */
async function taskOn(node: string): Promise<string> {
  const r = await nodeDocker(node, ['ps', '-q', '--filter', 'label=com.docker.swarm.service.name=web']);
  const id = r.stdout.trim().split('\n')[0] ?? '';
  expect(id, `no web task on ${node}: ${r.stderr}`).not.toBe('');
  return id;
}

const pingsOut = async (node: string, task: string): Promise<boolean> =>
  (await nodeDocker(node, ['exec', task, 'ping', '-c', '1', '-W', '2', lab.gateway])).code === 0;

beforeAll(async () => {
  if (process.env.ND_LAB_REUSE !== '1') await labDown();
  lab = await labUp();
});

describe('host faults, caused for real', () => {
  let healthy: Report;
  let faulty: Report;
  let policy = 'DROP';
  let gwSubnet = '';
  let task = '';
  let egressBefore = false;
  let egressDuring = true;

  beforeAll(async () => {
    healthy = (await check()).report;
    task = await taskOn('nd2');
    egressBefore = await pingsOut('nd2', task);
    policy = (await sh('nd2', "iptables -S FORWARD | sed -n 's/^-P FORWARD //p'")) || 'DROP';
    gwSubnet = await sh('nd3', "ip -4 route show dev docker_gwbridge proto kernel | awk '{print $1; exit}'");
    try {
      await sh(
        'nd2',
        'iptables -P FORWARD DROP && iptables -N ufw-user-forward && iptables -A ufw-user-forward -j DROP && iptables -I DOCKER-USER 1 -j ufw-user-forward',
      );
      await sh('nd1', `printf 'nameserver 10.0.1.53\\n' > ${NS_FILE} && mount --bind ${NS_FILE} /etc/resolv.conf`);
      await sh('nd3', `ip route add ${gwSubnet} via ${lab.gateway} dev eth0 metric 500`);
      egressDuring = await pingsOut('nd2', task);
      faulty = (await check()).report;
    } finally {
      await nodeExec(
        'nd2',
        `iptables -D DOCKER-USER -j ufw-user-forward; iptables -F ufw-user-forward; iptables -X ufw-user-forward; iptables -P FORWARD ${policy}`,
      );
      await nodeExec('nd1', `umount /etc/resolv.conf; rm -f ${NS_FILE}`);
      await nodeExec('nd3', `ip route del ${gwSubnet} via ${lab.gateway} dev eth0 metric 500`);
    }
  }, 600_000);

  afterAll(async () => {
    // The lab is left as found: the chain, the mount and the route are gone.
    expect((await nodeExec('nd2', 'iptables -S ufw-user-forward')).code).not.toBe(0);
  });

  it('the healthy lab passes the new host checks', () => {
    for (const node of ['nd1', 'nd2', 'nd3']) {
      for (const id of ['host.firewall.forward', 'host.dns.nameservers', 'host.tables.conntrack', 'host.underlay.ipv4', 'host.daemon.userns']) {
        const fs = findings(healthy, id, node);
        expect(
          fs.map((f) => f.status),
          `${id} on ${node}:\n${shown(fs)}`,
        ).toEqual(['pass']);
      }
      // Lab nodes are network namespaces: the neighbour table's files exist only in the host's.
      expect(findings(healthy, 'host.tables.neighbours', node).map((f) => f.status)).toEqual(['skip']);
    }
  });

  it('row 27: the ufw chain really drops task egress on nd2, and host.firewall.forward names it', () => {
    expect(egressBefore, 'a task on nd2 pings the lab bridge before the fault').toBe(true);
    expect(egressDuring, 'and no longer during it').toBe(false);
    const fs = findings(faulty, 'host.firewall.forward', 'nd2');
    expect(
      fs.map((f) => `${f.status} ${f.messageId}`),
      shown(fs),
    ).toEqual(['fail dropped']);
    expect(fs[0]!.detail).toContain('ufw-user-forward -j DROP');
    expect(fs[0]!.remediation).toContain('ufw route allow in on docker_gwbridge out on eth0');
    expect(findings(faulty, 'host.firewall.forward', 'nd1').map((f) => f.status)).toEqual(['pass']);
  });

  it("row 18: a resolver inside ndnet in nd1's resolv.conf", () => {
    const fs = findings(faulty, 'host.dns.nameservers', 'nd1');
    expect(
      fs.map((f) => `${f.status} ${f.messageId} ${f.network}`),
      shown(fs),
    ).toEqual(['fail inside ndnet']);
    expect(fs[0]!.detail).toContain('10.0.1.53');
  });

  it("row 19: a LAN route for exactly docker_gwbridge's subnet on nd3", () => {
    const fs = findings(faulty, 'host.gwbridge.egress', 'nd3').filter((f) => f.status !== 'pass');
    expect(
      fs.map((f) => `${f.status} ${f.messageId}`),
      shown(fs),
    ).toEqual(['fail overlap']);
    expect(fs[0]!.detail).toContain(`route ${gwSubnet} via`);
  });
});
