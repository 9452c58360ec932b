import check from '../../../../src/checks/host/networkmanager-devices.js';
import { splitTerse } from '../../../../src/model/host-extra.js';
import { expect, it } from 'vitest';
import { checkTester } from '../../../support/check-tester.js';
import { failed, lab, labWith, ok, setSection } from '../../../support/lab-mutate.js';

/** `nmcli -t -f DEVICE,STATE,CONNECTION device` in the form nmcli prints it (terse: ':' separated, ':' and '\' in values escaped). */
const NM_HANDS_OFF = [
  'eth0:connected:Wired connection 1',
  'docker0:connected (externally):docker0',
  'docker_gwbridge:connected (externally):docker_gwbridge',
  'veth3f2a1b9:unmanaged:',
  'vethe61c0d2:unmanaged:',
  'lo:connected (externally):lo',
].join('\n');
const NM_MANAGING = [
  'eth0:connected:Office\\: 2nd floor',
  'docker_gwbridge:connected:docker_gwbridge',
  'veth3f2a1b9:connecting (getting IP configuration):Wired connection 2',
  'docker0:unmanaged:',
].join('\n');

const nm = (nd1: string) =>
  labWith((s) => {
    for (const n of ['nd1', 'nd2', 'nd3']) setSection(s, n, 'host/nmcli', n === 'nd1' ? ok(nd1) : failed('nmcli: command not found', 127));
  });

it('splits nmcli terse lines on unescaped colons', () => {
  expect(splitTerse('eth0:connected:Office\\: 2nd floor')).toEqual(['eth0', 'connected', 'Office: 2nd floor']);
  expect(splitTerse('veth1:unmanaged:')).toEqual(['veth1', 'unmanaged', '']);
  expect(splitTerse('a\\\\:b:c')).toEqual(['a\\', 'b', 'c']);
});

checkTester(check, {
  valid: [
    {
      name: 'NM observes docker0/docker_gwbridge and leaves veths unmanaged; no nmcli elsewhere',
      snapshot: () => nm(NM_HANDS_OFF),
      passes: [
        { status: 'pass', messageId: 'ok', node: 'nd1' },
        { status: 'pass', messageId: 'notInUse', node: 'nd2' },
        { status: 'pass', messageId: 'notInUse', node: 'nd3' },
      ],
    },
    {
      name: 'NetworkManager installed but not running',
      snapshot: () =>
        labWith((s) => {
          for (const n of ['nd1', 'nd2', 'nd3']) setSection(s, n, 'host/nmcli', failed('Error: NetworkManager is not running.', 8));
        }),
      passes: ['nd1', 'nd2', 'nd3'].map((node) => ({ status: 'pass' as const, messageId: 'notInUse', node })),
    },
    {
      name: 'the recording predates the section',
      snapshot: lab,
      skips: ['nd1', 'nd2', 'nd3'].map((node) => ({ status: 'skip' as const, messageId: 'noNm', node })),
    },
  ],
  invalid: [
    {
      name: 'NM has a profile on docker_gwbridge and runs DHCP on a veth',
      snapshot: () => nm(NM_MANAGING),
      errors: [{ status: 'warn', messageId: 'managed', node: 'nd1' }],
    },
  ],
});
