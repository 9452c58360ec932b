import check from '../../../../src/checks/host/daemon-userns.js';
import { checkTester } from '../../../support/check-tester.js';
import { failed, lab, labWith, setSection } from '../../../support/lab-mutate.js';
import { withDockerInfo } from './daemon-info.js';

checkTester(check, {
  valid: [
    { name: 'the lab: seccomp only', snapshot: lab, passes: [{ status: 'pass', messageId: 'off', node: 'nd1' }] },
    {
      name: 'docker info failed on nd3',
      snapshot: () =>
        labWith((s) =>
          setSection(
            s,
            'nd3',
            'host/docker-info',
            failed('Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?'),
          ),
        ),
      skips: [{ status: 'skip', messageId: 'unreadable', node: 'nd3' }],
    },
  ],
  invalid: [
    {
      name: 'nd2 runs with userns-remap (SecurityOptions as docker info prints them)',
      snapshot: () => labWith((s) => withDockerInfo(s, 'nd2', (i) => (i.SecurityOptions = ['name=seccomp,profile=default', 'name=userns']))),
      errors: [{ status: 'warn', messageId: 'remapped', node: 'nd2' }],
    },
  ],
});
