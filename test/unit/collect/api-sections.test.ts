/**
 * dockerd's API read with curl on its unix socket (host/docker-version,
 * host/docker-info, host/network-views): real curl against an HTTP server on
 * a unix socket that answers with what the lab's Docker 26 answered, the
 * script's own functions run by sh, and the sections read by the parsers
 * exactly as those the docker CLI prints.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCollectScript } from '../../../src/collect/script.js';
import { splitSections } from '../../../src/collect/sections.js';
import { parseDaemonInfo } from '../../../src/model/host-extra.js';
import { parseViews } from '../../../src/model/ctlplane.js';
import { buildHostFacts } from '../../../src/parse/host.js';

const run = promisify(execFile);
const MARK = '@@NDapi@@';
const hasCurl = spawnSync('sh', ['-c', 'command -v curl']).status === 0;

/** One recorded section of the Docker 26 lab. */
function recorded(dir: string, section: string): string {
  const text = readFileSync(new URL(`../../fixtures/lab/${dir}/nd1.txt`, import.meta.url), 'utf8');
  const marker = readFileSync(new URL(`../../fixtures/lab/${dir}/nd1.marker`, import.meta.url), 'utf8').trim();
  return splitSections(text, marker).sections[section]!.stdout;
}

const cliVersion = JSON.parse(recorded('healthy-26', 'host/docker-version')) as { Server: unknown };
const cliInfo = recorded('healthy-26', 'host/docker-info');
const views = recorded('ctlplane', 'host/network-views')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => JSON.parse(l) as { Id: string; Name: string });
const info = JSON.parse(cliInfo) as Record<string, unknown>;
delete info.ClientInfo;

let dir: string;
let sock: string;
let server: Server;
const asked: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'nd-api-'));
  sock = join(dir, 'docker.sock');
  server = createServer((req, res) => {
    const url = req.url ?? '';
    asked.push(url);
    const net = /^\/networks\/([0-9a-z]+)\?verbose=true$/.exec(url);
    let body: unknown;
    if (url === '/version') body = cliVersion.Server;
    else if (url === '/info') body = { ...info, HttpProxy: 'http://proxyuser:s3cr3tvalue@proxy.example:3128' };
    else if (url.startsWith('/networks?filters=')) body = views.map((v) => ({ Id: v.Id, Name: v.Name, Labels: {} }));
    else if (net) body = { ...views.find((v) => v.Id === net[1]), Options: { 'com.docker.network.driver.overlay.vxlanid_list': '4097' } };
    if (body === undefined) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"page not found"}\n');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(`${JSON.stringify(body)}\n`);
  });
  await new Promise<void>((ok) => server.listen(sock, ok));
});
afterAll(async () => {
  await new Promise((ok) => server.close(ok));
  rmSync(dir, { recursive: true, force: true });
});

/** The script's prelude and API functions, then the given section lines, run by sh with DSOCK on our server. */
async function sections(lines: string, overlayIds?: string[], socket = sock): Promise<ReturnType<typeof splitSections>['sections']> {
  const { script } = buildCollectScript({ dataPathPort: 4789, marker: MARK, ...(overlayIds ? { overlayIds } : {}) });
  const pick = (name: string) => new RegExp(`\\n${name}\\(\\) \\{[\\s\\S]*?\\n\\}\\n`).exec(script)![0];
  const prelude = script.slice(0, script.indexOf('\nNSPFX=""'));
  const fns = ['ndredacted', 'ndapi', 'ndversion', 'ndinfo', 'ndnetviews'].map((f) =>
    f === 'ndapi' ? new RegExp(`\\n${f}\\(\\) \\{[^\\n]*\\n`).exec(script)![0] : pick(f),
  );
  const fetch = /\nNDV=; NDI=; NDN=;[\s\S]*?\nfi\n/.exec(script)![0];
  const body = `${prelude}\nDSOCK='${socket}'\n${fetch}${fns.join('')}${lines}\n`;
  const { stdout } = await run('sh', ['-c', body], { encoding: 'utf8' });
  return splitSections(stdout, MARK).sections;
}

describe.runIf(hasCurl)('dockerd API through curl on the unix socket', () => {
  it('docker version: the API object wrapped as the CLI prints it, containerd from its components', async () => {
    const s = await sections('sec host/docker-version ndversion');
    const v = s['host/docker-version']!;
    expect(v.rc).toBe(0);
    expect(JSON.parse(v.stdout)).toEqual({ Server: cliVersion.Server });
    const facts = buildHostFacts({ 'host/docker-version': v }, Date.now() / 1000);
    expect(facts.dockerVersion).toBe('26.1.5+dfsg1');
    expect(facts.containerdVersion).toMatch(/^containerd 1\.\d+\.\d+/);
  });

  it('docker info: the API object reads as the CLI one, credentials in URLs cut on the node', async () => {
    const s = await sections('sec host/docker-info ndinfo');
    const i = s['host/docker-info']!;
    expect(i.rc).toBe(0);
    expect(i.stdout.includes('s3cr3tvalue')).toBe(false);
    expect(i.stdout).toContain('"HttpProxy":"http://<redacted>@proxy.example:3128"');
    expect(parseDaemonInfo(i.stdout).value).toEqual(parseDaemonInfo(cliInfo).value);
  });

  it('network views: one object a line per swarm overlay, read as the CLI-formatted ones', async () => {
    asked.length = 0;
    const s = await sections('sec host/network-views ndnetviews');
    const n = s['host/network-views']!;
    expect(n.rc).toBe(0);
    expect(asked.slice(0, 2)).toEqual(['/version', '/info']);
    expect(asked[2]).toBe('/networks?filters=%7B%22driver%22%3A%5B%22overlay%22%5D%2C%22scope%22%3A%5B%22swarm%22%5D%7D');
    expect(asked.slice(3)).toEqual(views.map((v) => `/networks/${v.Id}?verbose=true`));
    expect([...parseViews(n.stdout).value]).toEqual([...parseViews(recorded('ctlplane', 'host/network-views')).value]);
  });

  it('a socket that is not there: the docker CLI is asked instead, and its absence is named', async () => {
    const s = await sections(
      `PATH=/nonexistent\nsec host/docker-version ndversion\nsec host/network-views ndnetviews`,
      views.map((v) => v.Id),
      join(dir, 'none.sock'),
    );
    expect(s['host/docker-version']!.rc).toBe(127);
    expect(s['host/docker-version']!.stderr).toContain('docker: command not found');
    expect(s['host/network-views']!.rc).toBe(127);
  });

  it("with the manager's overlay ids: /version, every view and /info in one curl, a network the node lacks left out", async () => {
    asked.length = 0;
    const ids = [...views.map((v) => v.Id), 'zzzznotanetwork0000000000', "bad'; touch /tmp/x; '"];
    const s = await sections('sec host/docker-version ndversion\nsec host/docker-info ndinfo\nsec host/network-views ndnetviews', ids);
    // /info last: the script cuts the first and the last line off what it holds, never a line from the start of a long text.
    expect(asked).toEqual([
      '/version',
      ...views.map((v) => `/networks/${v.Id}?verbose=true`),
      '/networks/zzzznotanetwork0000000000?verbose=true',
      '/info',
    ]);
    expect(JSON.parse(s['host/docker-version']!.stdout)).toEqual({ Server: cliVersion.Server });
    expect(parseDaemonInfo(s['host/docker-info']!.stdout).value).toEqual(parseDaemonInfo(cliInfo).value);
    const n = s['host/network-views']!;
    expect(n.rc).toBe(0);
    expect([...parseViews(n.stdout).value]).toEqual([...parseViews(recorded('ctlplane', 'host/network-views')).value]);
  });
});
