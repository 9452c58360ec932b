/**
 * The cluster layer through the shared check tester: valid and invalid cases
 * on the recorded lab (nd1 manager and leader, nd2/nd3 workers, Engine
 * 20.10.24, overlay ndnet 10.0.1.0/24, ingress 10.0.0.0/24, underlay
 * 10.213.0.0/24, no --default-addr-pool), mutated the way the Engine API
 * reports the fault. Asserts message ids and places, not prose.
 */
import advertiseAddress from '../../../../src/checks/cluster/advertise-address.js';
import datapathPort from '../../../../src/checks/cluster/datapath-port.js';
import engineSkew from '../../../../src/checks/cluster/engine-skew.js';
import managersQuorum from '../../../../src/checks/cluster/managers-quorum.js';
import nodesState from '../../../../src/checks/cluster/nodes-state.js';
import subnetsOverlap from '../../../../src/checks/cluster/subnets-overlap.js';
import type { NodeSummary } from '../../../../src/cluster/nodes.js';
import type { ClusterSnapshot } from '../../../../src/snapshot/types.js';
import { checkTester, runCheck } from '../../../support/check-tester.js';
import { lab, labWith, makeUnreachable, nodeOf, setSection } from '../../../support/lab-mutate.js';
import { describe, expect, it } from 'vitest';

const summary = (s: ClusterSnapshot, name: string): NodeSummary => s.cluster.nodes.find((n) => n.name === name)!;
/** A manager as docker node ls shows it: `Reachable`, `Unreachable`, `Leader`. */
const promote = (s: ClusterSnapshot, name: string, managerStatus = 'reachable') =>
  Object.assign(summary(s, name), { role: 'manager', managerStatus, leader: managerStatus === 'leader' });
const noSwarm = () =>
  labWith((s) => {
    s.cluster.swarmId = null;
  });
const poolClear = (s: ClusterSnapshot) => {
  s.cluster.defaultAddrPool = ['10.10.0.0/16'];
};
const ndnet = (s: ClusterSnapshot) => s.cluster.networks.find((n) => n.name === 'ndnet')!;

checkTester(managersQuorum, {
  valid: [
    { name: 'the lab: one manager, the leader', snapshot: lab, passes: [{ status: 'pass', messageId: 'single', node: null }] },
    {
      name: 'three managers, all reachable',
      snapshot: () =>
        labWith((s) => {
          promote(s, 'nd2');
          promote(s, 'nd3');
        }),
      passes: [{ status: 'pass', messageId: 'healthy' }],
    },
    { name: 'no swarm: the framework skips', snapshot: noSwarm, skips: [{ status: 'skip', messageId: 'skip.no-swarm', node: null }] },
  ],
  invalid: [
    {
      name: 'one of three managers unreachable',
      snapshot: () =>
        labWith((s) => {
          promote(s, 'nd2');
          promote(s, 'nd3', 'unreachable');
        }),
      errors: [{ status: 'warn', messageId: 'managerDown', node: 'nd3' }],
    },
    {
      name: 'two of three managers unreachable: quorum lost',
      snapshot: () =>
        labWith((s) => {
          promote(s, 'nd2', 'unreachable');
          promote(s, 'nd3', 'unreachable');
        }),
      errors: [
        { status: 'fail', messageId: 'quorumLost', node: null },
        { status: 'fail', messageId: 'managerDown', node: 'nd2' },
        { status: 'fail', messageId: 'managerDown', node: 'nd3' },
      ],
    },
    {
      name: 'three reachable managers and no leader (an election)',
      snapshot: () =>
        labWith((s) => {
          promote(s, 'nd1');
          promote(s, 'nd2');
          promote(s, 'nd3');
        }),
      errors: [{ status: 'fail', messageId: 'noLeader', node: null }],
    },
    { name: 'two managers', snapshot: () => labWith((s) => promote(s, 'nd2')), errors: [{ status: 'warn', messageId: 'evenCount', node: null }] },
  ],
});

checkTester(nodesState, {
  valid: [{ name: 'the lab', snapshot: lab, passes: ['nd1', 'nd2', 'nd3'].map((node) => ({ status: 'pass' as const, messageId: 'ok', node })) }],
  invalid: [
    {
      name: 'nd3 down, nd2 drained, nd1 in an unknown state',
      snapshot: () =>
        labWith((s) => {
          summary(s, 'nd3').state = 'down';
          summary(s, 'nd2').availability = 'drain';
          summary(s, 'nd1').state = 'unknown';
        }),
      errors: [
        { status: 'fail', messageId: 'notReady', node: 'nd3' },
        { status: 'warn', messageId: 'notActive', node: 'nd2' },
        { status: 'warn', messageId: 'notReady', node: 'nd1' },
      ],
    },
  ],
});

checkTester(advertiseAddress, {
  valid: [
    { name: 'the lab: every node advertises its eth0 address', snapshot: lab, passes: [{ status: 'pass', messageId: 'ok', node: 'nd2' }] },
    {
      name: 'nd3 not collected: its interfaces cannot be compared',
      snapshot: () => labWith((s) => makeUnreachable(s, 'nd3')),
      skips: [{ status: 'skip', messageId: 'notCollected', node: 'nd3' }],
    },
  ],
  invalid: [
    {
      name: 'addresses on no interface, loopback, a Docker bridge, none, not an IP',
      snapshot: () =>
        labWith((s) => {
          summary(s, 'nd1').advertiseAddress = '172.18.0.1';
          summary(s, 'nd2').advertiseAddress = '10.213.0.99';
          summary(s, 'nd3').advertiseAddress = '127.0.0.1';
        }),
      errors: [
        { status: 'fail', messageId: 'dockerBridge', node: 'nd1' },
        { status: 'fail', messageId: 'notLocal', node: 'nd2' },
        { status: 'fail', messageId: 'unusable', node: 'nd3' },
      ],
    },
    {
      // FAILURES.md #28 as the lab shows it (test/e2e/rows.test.ts): nd3 joined with --advertise-addr 10.213.0.63,
      // an address it does not have; the manager lists a worker at the address it connected from.
      name: "a worker's own advertise address (docker info Swarm.NodeAddr) on none of its interfaces, the manager's view fine",
      snapshot: () =>
        labWith((s) => {
          const info = nodeOf(s, 'nd3').raw['host/docker-info']!;
          expect(info.stdout).toMatch(/"NodeAddr": ?"10\.213\.0\.13"/);
          setSection(s, 'nd3', 'host/docker-info', { ...info, stdout: info.stdout.replace(/("NodeAddr": ?)"10\.213\.0\.13"/, '$1"10.213.0.63"') });
        }),
      errors: [{ status: 'fail', messageId: 'notLocal', node: 'nd3' }],
    },
    {
      name: 'two nodes advertise one address (a cloned VM)',
      snapshot: () =>
        labWith((s) => {
          summary(s, 'nd3').advertiseAddress = '10.213.0.12';
        }),
      errors: [
        { status: 'fail', messageId: 'duplicate', node: 'nd2', peer: 'nd3' },
        { status: 'fail', messageId: 'duplicate', node: 'nd3', peer: 'nd2' },
      ],
    },
    {
      name: 'no usable address, and a name instead of an address',
      snapshot: () =>
        labWith((s) => {
          summary(s, 'nd2').advertiseAddress = null;
          summary(s, 'nd3').advertiseAddress = 'nd3.example';
        }),
      errors: [
        { status: 'warn', messageId: 'none', node: 'nd2' },
        { status: 'warn', messageId: 'notIp', node: 'nd3' },
      ],
    },
  ],
});

checkTester(engineSkew, {
  valid: [
    { name: 'the lab: 20.10.24 everywhere', snapshot: lab, passes: [{ status: 'pass', messageId: 'same' }] },
    {
      name: 'the swarm omits the version: the node reports its own',
      snapshot: () =>
        labWith((s) => {
          summary(s, 'nd2').engineVersion = null;
        }),
      passes: [{ status: 'pass', messageId: 'same' }],
    },
    {
      name: 'no version known anywhere',
      snapshot: () =>
        labWith((s) => {
          for (const n of s.cluster.nodes) n.engineVersion = null;
          for (const n of s.nodes) n.host!.dockerVersion = null;
        }),
      skips: [{ status: 'skip', messageId: 'unknown', node: null }],
    },
  ],
  invalid: [
    {
      name: 'nd3 upgraded to 24.0.7',
      snapshot: () =>
        labWith((s) => {
          summary(s, 'nd3').engineVersion = '24.0.7';
        }),
      errors: [{ status: 'warn', messageId: 'differ', node: null }],
    },
  ],
});

checkTester(subnetsOverlap, {
  valid: [
    { name: 'an explicit pool clear of the lab underlay', snapshot: () => labWith(poolClear), passes: [{ status: 'pass', messageId: 'clear' }] },
  ],
  invalid: [
    {
      name: "the lab: Docker's default pool 10.0.0.0/8 covers the underlay 10.213.0.0/24",
      snapshot: lab,
      errors: ['nd1', 'nd2', 'nd3'].map((node) => ({ status: 'warn' as const, messageId: 'pool', node, network: null })),
    },
    {
      name: 'ndnet on the underlay subnet',
      snapshot: () =>
        labWith((s) => {
          poolClear(s);
          ndnet(s).subnets = [{ subnet: '10.213.0.0/24', gateway: '10.213.0.1' }];
        }),
      errors: ['nd1', 'nd2', 'nd3'].map((node) => ({ status: 'fail' as const, messageId: 'underlay', node, network: 'ndnet' })),
    },
    {
      name: 'ndnet over ingress',
      snapshot: () =>
        labWith((s) => {
          poolClear(s);
          ndnet(s).subnets = [{ subnet: '10.0.0.0/23', gateway: '10.0.0.1' }];
        }),
      errors: [{ status: 'fail', messageId: 'overlays', node: null, network: 'ndnet' }],
    },
    {
      name: 'ndnet over docker_gwbridge, ingress under a static route on nd2',
      snapshot: () =>
        labWith((s) => {
          poolClear(s);
          ndnet(s).subnets = [{ subnet: '172.18.0.0/24', gateway: '172.18.0.1' }];
          nodeOf(s, 'nd2').host!.routes.push({ dst: '10.0.0.0/16', dev: 'eth0', gateway: '10.213.0.1', protocol: 'static' });
        }),
      errors: [
        ...['nd1', 'nd2', 'nd3'].map((node) => ({ status: 'fail' as const, messageId: 'dockerBridge', node, network: 'ndnet' })),
        { status: 'warn', messageId: 'route', node: 'nd2', network: 'ingress' },
      ],
    },
  ],
});

describe('cluster.subnets.overlap on a node not collected', () => {
  it('skips that node and still checks the others', () => {
    const fs = runCheck(subnetsOverlap, { name: 'nd3 down', snapshot: () => labWith((s) => makeUnreachable(s, 'nd3')) });
    expect(fs.filter((f) => f.node === 'nd3').map((f) => `${f.status} ${f.messageId}`)).toEqual(['skip notCollected']);
    expect(fs.filter((f) => f.messageId === 'pool').map((f) => f.node)).toEqual(['nd1', 'nd2']);
  });
});

checkTester(datapathPort, {
  valid: [
    { name: 'the lab: udp/4789', snapshot: lab, passes: [{ status: 'pass', messageId: 'default' }] },
    {
      name: '--data-path-port 4800',
      snapshot: () =>
        labWith((s) => {
          s.cluster.dataPathPort = 4800;
        }),
      passes: [{ status: 'pass', messageId: 'custom' }],
    },
  ],
  invalid: [
    {
      name: 'a well-known port',
      snapshot: () =>
        labWith((s) => {
          s.cluster.dataPathPort = 443;
        }),
      errors: [{ status: 'warn', messageId: 'outOfRange' }],
    },
  ],
});
