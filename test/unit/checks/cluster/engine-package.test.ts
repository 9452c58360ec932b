/**
 * Remediations that upgrade Docker name the package the node really runs:
 * host/docker-package as the collection script prints it on real hosts
 * (Debian's docker.io, Docker's docker-ce, Fedora's moby-engine, the snap,
 * an unpacked tree no package owns), parsed into the host facts and used by
 * cluster.engine.skew.
 */
import { describe, expect, it } from 'vitest';
import engineSkew from '../../../../src/checks/cluster/engine-skew.js';
import { upgradeStep } from '../../../../src/checks/cluster/lib/engine-package.js';
import { buildHostFacts, parseDockerPackage } from '../../../../src/parse/host.js';
import type { ClusterSnapshot } from '../../../../src/snapshot/types.js';
import { runCheck } from '../../../support/check-tester.js';
import { labSnapshot } from '../../../support/lab-fixtures.js';
import { labWith, nodeOf } from '../../../support/lab-mutate.js';

describe('parseDockerPackage (host/docker-package)', () => {
  it('reads the package manager and name', () => {
    expect(parseDockerPackage('exe /usr/sbin/dockerd\npackage dpkg docker.io')).toEqual({
      exe: '/usr/sbin/dockerd',
      manager: 'dpkg',
      name: 'docker.io',
    });
    expect(parseDockerPackage('exe /usr/bin/dockerd\npackage dpkg docker-ce')).toEqual({
      exe: '/usr/bin/dockerd',
      manager: 'dpkg',
      name: 'docker-ce',
    });
    expect(parseDockerPackage('exe /usr/bin/dockerd\npackage rpm moby-engine')).toEqual({
      exe: '/usr/bin/dockerd',
      manager: 'rpm',
      name: 'moby-engine',
    });
    expect(parseDockerPackage('exe /snap/docker/2915/bin/dockerd\npackage snap docker')).toEqual({
      exe: '/snap/docker/2915/bin/dockerd',
      manager: 'snap',
      name: 'docker',
    });
  });

  it('a binary no package owns (an unpacked tree, a static download)', () => {
    expect(parseDockerPackage('exe /opt/ndlab/docker-26/usr/sbin/dockerd\npackage none')).toEqual({
      exe: '/opt/ndlab/docker-26/usr/sbin/dockerd',
      manager: null,
      name: null,
    });
  });

  it('drops what is not a package name, and says nothing for nothing', () => {
    expect(parseDockerPackage('exe /usr/bin/dockerd\npackage dpkg docker;rm${IFS}-rf')).toEqual({
      exe: '/usr/bin/dockerd',
      manager: null,
      name: null,
    });
    expect(parseDockerPackage('package apk docker')).toBeNull();
    expect(parseDockerPackage('')).toBeNull();
    expect(parseDockerPackage(null)).toBeNull();
  });

  it('is read from the section only when it succeeded; older snapshots have none', () => {
    const ok = { stdout: 'exe /usr/sbin/dockerd\npackage dpkg docker.io\n', stderr: '', rc: 0 };
    expect(buildHostFacts({ 'host/docker-package': ok }, 0).dockerPackage).toMatchObject({ name: 'docker.io' });
    const failed = { stdout: '', stderr: 'dockerd: not running and not on PATH', rc: 1 };
    expect(buildHostFacts({ 'host/docker-package': failed }, 0).dockerPackage).toBeNull();
  });
});

describe('upgradeStep', () => {
  const pkg = (manager: 'dpkg' | 'rpm' | 'snap' | null, name: string | null, exe = '/usr/bin/dockerd') => ({ exe, manager, name });
  it('one command when every node runs the same package', () => {
    expect(
      upgradeStep([
        { name: 'a', pkg: pkg('dpkg', 'docker.io') },
        { name: 'b', pkg: pkg('dpkg', 'docker.io') },
      ]),
    ).toBe('upgrade docker.io (`apt-get install --only-upgrade docker.io`)');
    expect(upgradeStep([{ name: 'a', pkg: pkg('rpm', 'moby-engine') }])).toBe('upgrade moby-engine (`dnf upgrade moby-engine`)');
    expect(upgradeStep([{ name: 'a', pkg: pkg('snap', 'docker') }])).toBe('upgrade docker (`snap refresh docker`)');
  });
  it('per package when they differ, and plain words when unknown', () => {
    expect(
      upgradeStep([
        { name: 'a', pkg: pkg('dpkg', 'docker.io') },
        { name: 'b', pkg: pkg('dpkg', 'docker-ce') },
        { name: 'c', pkg: undefined },
        { name: 'd', pkg: pkg(null, null, '/opt/my docker/dockerd') },
      ]),
    ).toBe(
      'on a: upgrade docker.io (`apt-get install --only-upgrade docker.io`); on b: upgrade docker-ce (`apt-get install --only-upgrade docker-ce`); ' +
        'on c: upgrade the Docker Engine package; on d: replace /opt/my docker/dockerd, which no package owns, with the new dockerd',
    );
    expect(upgradeStep([{ name: 'a', pkg: null }])).toBe('upgrade the Docker Engine package');
  });
});

describe('cluster.engine.skew names the package', () => {
  const withPackages = (s: ClusterSnapshot, text: Record<string, string>) => {
    for (const [name, out] of Object.entries(text)) {
      const n = nodeOf(s, name);
      n.raw['host/docker-package'] = { stdout: out, stderr: '', rc: 0 };
      n.host = buildHostFacts(n.raw, 0);
    }
  };
  const skew = (s: ClusterSnapshot) => runCheck(engineSkew, { name: 'skew', snapshot: () => s }).find((f) => f.status === 'warn')!;

  it('a rolling upgrade to docker-ce 26 half done: the rest upgrade their docker-ce', () => {
    const s = labWith((x) => {
      for (const n of x.cluster.nodes) n.engineVersion = n.name === 'nd1' ? '26.1.5' : '24.0.7';
      withPackages(x, {
        nd1: 'exe /usr/bin/dockerd\npackage dpkg docker-ce',
        nd2: 'exe /usr/bin/dockerd\npackage dpkg docker-ce',
        nd3: 'exe /usr/bin/dockerd\npackage dpkg docker-ce',
      });
    });
    const f = skew(s);
    expect(f.remediation).toContain('Upgrade nd2 and nd3 to 26.1.5');
    expect(f.remediation).toContain('upgrade docker-ce (`apt-get install --only-upgrade docker-ce`)');
  });

  it("Debian's docker.io and Fedora's moby-engine are named as such, never docker-ce", () => {
    const s = labWith((x) => {
      for (const n of x.cluster.nodes) n.engineVersion = n.name === 'nd1' ? '26.1.5' : '24.0.7';
      withPackages(x, { nd2: 'exe /usr/sbin/dockerd\npackage dpkg docker.io', nd3: 'exe /usr/bin/dockerd\npackage rpm moby-engine' });
    });
    const f = skew(s);
    expect(f.remediation).toContain('on nd2: upgrade docker.io (`apt-get install --only-upgrade docker.io`)');
    expect(f.remediation).toContain('on nd3: upgrade moby-engine (`dnf upgrade moby-engine`)');
    expect(f.remediation).not.toContain('docker-ce');
  });
});

describe('on the recorded mixed-version lab (nd1 on Docker 26 from an unpacked tree, nd2 and nd3 on Debian docker.io 20.10)', () => {
  const s = labSnapshot('mixed');

  it('reads each node’s package as collected', () => {
    expect(nodeOf(s, 'nd1').host?.dockerPackage).toMatchObject({
      manager: null,
      name: null,
      exe: expect.stringMatching(/docker-26\/usr\/sbin\/dockerd$/),
    });
    expect(nodeOf(s, 'nd2').host?.dockerPackage).toEqual({ exe: '/usr/sbin/dockerd', manager: 'dpkg', name: 'docker.io' });
    expect(nodeOf(s, 'nd3').host?.dockerPackage).toEqual({ exe: '/usr/sbin/dockerd', manager: 'dpkg', name: 'docker.io' });
  });

  it('cluster.engine.skew: the 20.10 workers move to 26 with their docker.io', () => {
    const f = runCheck(engineSkew, { name: 'mixed', snapshot: () => s }).find((x) => x.status === 'warn')!;
    expect(f.detail).toMatch(/20\.10\.24\S* on nd2 and nd3; 26\.1\.5\S* on nd1/);
    expect(f.remediation).toMatch(/^Upgrade nd2 and nd3 to 26\.1\.5/);
    expect(f.remediation).toContain('upgrade docker.io (`apt-get install --only-upgrade docker.io`)');
  });
});
