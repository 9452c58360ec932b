/**
 * collect.ts overlaysReadAfter: the moment a node's overlay sandboxes (their
 * FDB and vxlan neighbour tables) are read, told by the first section after
 * them; the overlay pings of the early probes wait for it on every node.
 * With the script's own order: the recorded lab collection is replayed in
 * the order buildCollectScript prints its sections.
 */
import { describe, expect, it } from 'vitest';
import { overlaysReadAfter } from '../../../src/collect/collect.js';

/** The section at which `then` was called, for this order of sections. */
function firedAt(sections: string[]): string[] {
  const fired: string[] = [];
  let current = '';
  const on = overlaysReadAfter(() => fired.push(current));
  for (const s of sections) {
    current = s;
    on(s);
  }
  return fired;
}

describe('overlaysReadAfter', () => {
  it('fires once, at the first section after the overlay sandboxes (any epoch)', () => {
    const order = [
      'host/clock',
      'host/dockerd-pid',
      'netns/list',
      'netns/access',
      'netns/1-6d9tspckdy/link',
      'netns/1-6d9tspckdy/fdb',
      'netns/2-t76lzgw2x7/neigh',
      'netns/2-t76lzgw2x7/fdb',
      'netns/0da3e0a73909/link',
      'netns/ingress_sbox/link',
      'host/hostname',
    ];
    expect(firedAt(order)).toEqual(['netns/0da3e0a73909/link']);
  });

  it('without overlay sandboxes: at the first section after the list; without sandboxes at all: after the list too', () => {
    expect(firedAt(['host/clock', 'netns/list', 'netns/access', 'netns/ingress_sbox/link', 'host/hostname'])).toEqual(['netns/ingress_sbox/link']);
    expect(firedAt(['host/clock', 'host/dockerd-pid', 'netns/list', 'host/hostname', 'host/uname'])).toEqual(['host/hostname']);
  });

  it('never before the list, and never for a section name that only looks like an overlay elsewhere', () => {
    expect(firedAt(['host/clock', 'host/1-abc/x', 'host/dockerd-pid'])).toEqual([]);
    expect(firedAt(['netns/list', 'netns/1-abc/fdb', 'netns/lb_1-abc/link'])).toEqual(['netns/lb_1-abc/link']);
  });
});
