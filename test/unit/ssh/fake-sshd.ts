/**
 * A tiny in-process SSH server (ssh2's Server) on 127.0.0.1 for unit tests of
 * src/ssh/session.ts: public-key auth for one allowed key, exec through a
 * local `sh -c` in its own process group (like sshd's setsid), "signal"
 * requests, and direct-tcpip forwarding (so it can serve as a jump host).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect as netConnect, type AddressInfo } from 'node:net';
import ssh2, { type Connection, type ParsedKey } from 'ssh2';

const { Server, utils } = ssh2;

export interface FakeSshd {
  port: number;
  /** direct-tcpip requests seen (host:port). */
  forwards: string[];
  /** Users that authenticated. */
  logins: string[];
  close(): Promise<void>;
}

export async function startFakeSshd(opts: { hostKeyFile: string; allowedPubKeyFile: string }): Promise<FakeSshd> {
  const allowed = utils.parseKey(readFileSync(opts.allowedPubKeyFile)) as ParsedKey;
  if (allowed instanceof Error) throw allowed;
  const forwards: string[] = [];
  const logins: string[] = [];
  const clients = new Set<Connection>();
  const children = new Set<ChildProcess>();

  const server = new Server({ hostKeys: [readFileSync(opts.hostKeyFile)] }, (client) => {
    clients.add(client);
    client.on('close', () => clients.delete(client));
    client.on('error', () => undefined);
    client.on('authentication', (ctx) => {
      if (ctx.method !== 'publickey') return ctx.reject(['publickey']);
      const data = allowed.getPublicSSH();
      const same = ctx.key.algo === allowed.type && ctx.key.data.length === data.length && timingSafeEqual(ctx.key.data, data);
      if (!same) return ctx.reject(['publickey']);
      if (ctx.signature && ctx.blob && allowed.verify(ctx.blob, ctx.signature, ctx.hashAlgo) !== true) return ctx.reject(['publickey']);
      if (ctx.signature) logins.push(ctx.username);
      ctx.accept();
    });
    client.on('ready', () => {
      client.on('session', (accept) => {
        const session = accept();
        let child: ChildProcess | undefined;
        session.on('signal', (acc, _rej, info) => {
          if (child?.pid) {
            try {
              process.kill(-child.pid, `SIG${info.name}` as NodeJS.Signals);
            } catch {
              // gone
            }
          }
          if (typeof acc === 'function') acc();
        });
        session.once('exec', (acc, _rej, info) => {
          const stream = acc();
          const c = spawn('sh', ['-c', info.command], { detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
          child = c;
          children.add(c);
          stream.pipe(c.stdin).on('error', () => undefined);
          c.stdout.pipe(stream, { end: false });
          c.stderr.pipe(stream.stderr, { end: false });
          c.on('close', (code, signal) => {
            children.delete(c);
            try {
              if (signal) stream.exit(signal.replace(/^SIG/, ''), false, '');
              else stream.exit(code ?? 0);
              stream.end();
            } catch {
              // channel already closed by the client
            }
          });
        });
      });
      client.on('tcpip', (acc, rej, info) => {
        forwards.push(`${info.destIP}:${info.destPort}`);
        const sock = netConnect(info.destPort, info.destIP);
        sock.once('connect', () => {
          const ch = acc();
          sock.pipe(ch).pipe(sock);
          ch.on('error', () => sock.destroy());
          sock.on('error', () => ch.destroy());
        });
        sock.once('error', () => rej());
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    forwards,
    logins,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of children) {
          try {
            if (c.pid) process.kill(-c.pid, 'SIGKILL');
          } catch {
            // gone
          }
        }
        for (const c of clients) c.end();
        server.close(() => resolve());
      }),
  };
}
