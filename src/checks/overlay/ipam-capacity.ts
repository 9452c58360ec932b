import { parseCidr, stripPrefixLen } from '../../net/ip.js';
import { code, prose, shq } from '../../text/shell.js';
import type { Model } from '../../model/types.js';
import { holdsAddresses } from '../../model/ctlplane.js';
import { defineCheck } from '../types.js';

/** Docker's IPAM keeps the network address, the broadcast address and the gateway out of every IPv4 pool. */
const RESERVED = 3;
const WARN_AT = 0.8;

/**
 * The task addresses swarmkit's allocator holds on a network: every address
 * in the NetworksAttachments of a task whose state is not yet past running
 * (new with an address, pending … starting, running, and running while being
 * shut down: manager/allocator/network.go frees them only past running),
 * plus those of the service facts' running tasks. By address, so a task
 * listed twice, or also in the network's endpoints, counts once. `transit`:
 * those held by tasks not running, or whose desired state is no longer running.
 */
export function taskAddresses(model: Model, networkId: string): { tasks: Set<string>; transit: Set<string> } {
  const tasks = new Set<string>();
  const transit = new Set<string>();
  for (const t of model.controlPlane.tasks) {
    if (!holdsAddresses(t.state)) continue;
    const moving = t.state !== 'running' || t.desired !== 'running';
    for (const a of t.addresses) {
      if (a.networkId !== networkId) continue;
      tasks.add(stripPrefixLen(a.addr));
      if (moving) transit.add(stripPrefixLen(a.addr));
    }
  }
  for (const svc of model.cluster.services) {
    for (const t of svc.runningTasks) for (const a of t.addresses) if (a.networkId === networkId) tasks.add(stripPrefixLen(a.addr));
  }
  return { tasks, transit };
}

export default defineCheck({
  meta: {
    id: 'overlay.ipam.capacity',
    layer: 'overlay',
    title: 'Overlay subnets have room for their tasks, VIPs and load-balancer endpoints',
    looksAt:
      "Per swarm network, the addresses in use (task endpoints, one VIP per service, one load-balancer endpoint per node that hosts the network, from the manager's `network inspect --verbose` and the task list) against the subnet's size (FAILURES.md #21: a /24 runs out at about 252 addresses). A task holds its address as swarmkit's allocator counts it: from allocation until its state is past running, so tasks still starting and tasks being shut down during a rollout or a scale-up count too.",
    remediation:
      'Move the services to a larger overlay (`docker network create -d overlay --subnet <a /22 from your pool> NAME`, then `docker service update --network-add NAME --network-rm OLD SERVICE`), or scale down; IPs of removed tasks are freed after a few seconds.',
    scope: 'cluster',
    failures: [21],
    needs: ['swarm'],
    messages: {
      room: '{used} of {capacity} addresses in use on {subnet} ({percent} %)',
      nearlyFull:
        '{used} of {capacity} addresses of {subnet} are in use ({percent} %: {tasks} task endpoints{held}, {vips} VIPs, {lbs} load-balancer endpoints); a rolling update needs room for a second copy of each task it replaces',
      full: '{subnet} is exhausted: {used} of {capacity} addresses in use ({tasks} task endpoints{held}, {vips} VIPs, {lbs} load-balancer endpoints); new tasks stay in NEW with "could not find an available IP"',
    },
  },
  check({ model, report }) {
    for (const net of model.networks.filter((n) => n.driver === 'overlay')) {
      const { tasks, transit } = taskAddresses(model, net.id);
      const lbs = new Set<string>();
      const known = new Set(model.controlPlane.tasks.map((t) => t.id));
      // An endpoint of a task in the list is counted (or not) from the task's own record above.
      for (const e of net.endpoints) if (e.kind === 'lb' || !known.has(e.task.split('.').pop()!)) (e.kind === 'lb' ? lbs : tasks).add(e.ip);
      const vips = new Set(Object.values(net.serviceVips));
      for (const svc of model.cluster.services) for (const v of svc.vips) if (v.networkId === net.id) vips.add(stripPrefixLen(v.addr));
      for (const s of net.subnets) {
        const cidr = parseCidr(s.subnet);
        if (cidr?.family !== 4) continue;
        const capacity = 2 ** (32 - cidr.prefix) - RESERVED;
        if (capacity <= 0) continue;
        const inSubnet = (ips: Set<string>) =>
          [...ips].filter((ip) => net.subnets.length === 1 || parseCidr(`${ip}/${cidr.prefix}`)?.base === cidr.base).length;
        const counts = { tasks: inSubnet(tasks), vips: inSubnet(vips), lbs: inSubnet(lbs) };
        const used = counts.tasks + counts.vips + counts.lbs;
        const moving = inSubnet(transit);
        const held = moving ? `, ${moving} of them held by tasks not running yet or being shut down` : '';
        const data = { used, capacity, subnet: s.subnet, percent: Math.round((used / capacity) * 100), held, ...counts };
        const fix = {
          remediation:
            `${code(`docker network create -d overlay --subnet <a /22 or larger from your pool> ${shq(`${net.name}-large`)}`)}; then for each service on ${prose(net.name)}: ` +
            code(`docker service update --network-add ${shq(`${net.name}-large`)} --network-rm ${shq(net.name)} SERVICE`),
          network: net.name,
        };
        if (used >= capacity) report('fail', 'full', data, fix);
        else if (used >= capacity * WARN_AT) report('warn', 'nearlyFull', data, fix);
        else report('pass', 'room', data, { network: net.name });
      }
    }
  },
});
