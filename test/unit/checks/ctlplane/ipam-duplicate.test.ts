import check from '../../../../src/checks/overlay/ipam-duplicate.js';
import { checkTester } from '../../../support/check-tester.js';
import { editSection, recording } from './support.js';

/** nd3's own view gives its web task the address of web's VIP (what a rebuilt IPAM state hands out twice). */
const taskOnVip = () =>
  editSection(recording('ctlplane'), 'nd3', 'host/network-views', (text) =>
    text
      .split('\n')
      .map((line) => {
        if (!line.includes('"Name":"ndnet"')) return line;
        const vip = /"VIP":"([0-9.]+)"/.exec(line)![1]!;
        return line.replace(/"EndpointIP":"[0-9.]+","Info":\{"Host IP":"10\.213\.0\.13"\}/, `"EndpointIP":"${vip}","Info":{"Host IP":"10.213.0.13"}`);
      })
      .join('\n'),
  );

checkTester(check, {
  valid: [
    {
      name: 'the healthy lab: every address once',
      snapshot: () => recording('ctlplane'),
      passes: [
        { status: 'pass', messageId: 'unique', network: 'ndnet' },
        { status: 'pass', messageId: 'unique', network: 'ingress' },
      ],
    },
    { name: 'the split lab: views differ, but no address is held twice', snapshot: () => recording('ctlplane-diverged') },
    { name: 'the /29 under pressure: the tasks that got an address got distinct ones', snapshot: () => recording('ctlplane-ipam') },
  ],
  invalid: [
    {
      name: "a task on nd3 holding web's VIP",
      snapshot: taskOnVip,
      errors: [{ status: 'fail', messageId: 'duplicate', network: 'ndnet' }],
    },
  ],
});
