import check from '../../../../src/checks/host/mountns-separate.js';
import { checkTester } from '../../../support/check-tester.js';
import { failed, lab, labWith, nodeOf, ok, setSection } from '../../../support/lab-mutate.js';

checkTester(check, {
  valid: [
    { name: 'the lab: dockerd in the host mount namespace', snapshot: lab, passes: [{ status: 'pass', messageId: 'shared', node: 'nd1' }] },
    {
      name: 'dockerd stopped: nothing to compare',
      snapshot: () =>
        labWith((s) => {
          setSection(s, 'nd2', 'host/mountns', undefined);
          setSection(s, 'nd2', 'host/dockerd-cmdline', undefined);
          setSection(s, 'nd2', 'host/dockerd-pid', failed('', 1));
        }),
      skips: [{ status: 'skip', messageId: 'dockerdStopped', node: 'nd2' }],
    },
    {
      name: 'the namespace comparison failed',
      snapshot: () => labWith((s) => setSection(s, 'nd3', 'host/mountns', failed('readlink: /proc/38/ns/mnt: Permission denied'))),
      skips: [{ status: 'skip', messageId: 'unknown', node: 'nd3' }],
    },
  ],
  invalid: [
    {
      name: 'MountFlags=slave in docker.service and dockerd in a namespace of its own',
      snapshot: () =>
        labWith((s) => {
          setSection(s, 'nd2', 'host/systemd-docker', ok('MountFlags=slave\nActiveState=active'));
          setSection(s, 'nd2', 'host/mountns', ok('self=mnt:[4026531841] dockerd=mnt:[4026532290]'));
          nodeOf(s, 'nd2').sandboxAccess = 'dockerd-mount-ns';
        }),
      errors: [{ status: 'warn', messageId: 'separate', node: 'nd2' }],
    },
    {
      name: 'a private namespace without MountFlags (snap, unshare -m)',
      snapshot: () => labWith((s) => setSection(s, 'nd3', 'host/mountns', ok('self=mnt:[4026531841] dockerd=mnt:[4026532290]'))),
      errors: [{ status: 'warn', messageId: 'separate', node: 'nd3' }],
    },
  ],
});
