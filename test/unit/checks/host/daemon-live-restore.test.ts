import check from '../../../../src/checks/host/daemon-live-restore.js';
import { checkTester } from '../../../support/check-tester.js';
import { lab, labWith } from '../../../support/lab-mutate.js';
import { withDockerInfo } from './daemon-info.js';

checkTester(check, {
  valid: [
    { name: 'the lab: live-restore off', snapshot: lab, passes: [{ status: 'pass', messageId: 'off', node: 'nd1' }] },
    {
      name: 'live-restore on, node an active member (newer engines accept it)',
      snapshot: () => labWith((s) => withDockerInfo(s, 'nd2', (i) => (i.LiveRestoreEnabled = true))),
      passes: [{ status: 'pass', messageId: 'on', node: 'nd2' }],
    },
  ],
  invalid: [
    {
      name: "live-restore on and nd3's dockerd out of the swarm it is listed in",
      snapshot: () =>
        labWith((s) =>
          withDockerInfo(s, 'nd3', (i) => {
            i.LiveRestoreEnabled = true;
            i.Swarm = { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null };
          }),
        ),
      errors: [{ status: 'fail', messageId: 'outside', node: 'nd3' }],
    },
  ],
});
