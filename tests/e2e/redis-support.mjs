// Throwaway redis-servers (Debian's) on free loopback ports, for the scaling tests: plain, or
// with TLS and an ACL user as managed services run them.
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';

/**
 * A free TCP port on 127.0.0.1 below the kernel's ephemeral range (32768 and up), so no
 * socket another test opens on port 0 takes it while its Redis is stopped.
 */
export async function freeLoopbackPort() {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await new Promise((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no free port for redis-server in 20000-31999');
}

/** The process id of the Redis answering on `port`, or null when nothing answers. */
function answeringPid(port) {
  return new Promise((resolve) => {
    let reply = '';
    const socket = net.connect(port, '127.0.0.1', () => socket.write('INFO server\r\n'));
    socket.setEncoding('utf8');
    socket.on('data', (chunk) => {
      reply += chunk;
      const match = /process_id:(\d+)/.exec(reply);
      if (match) {
        socket.destroy();
        resolve(Number(match[1]));
      }
    });
    socket.on('error', () => resolve(null));
    socket.on('close', () => resolve(null));
  });
}

/**
 * Starts `redis-server` on `port` (a free one by default), without persistence; resolves
 * once it accepts connections. `stop()` kills it; `start()` starts it again on the same port.
 */
export async function startRedis(port) {
  port ??= await freeLoopbackPort();
  let child;
  const redis = {
    port,
    async start() {
      child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
        stdio: 'ignore',
      });
      child.on('error', () => {});
      const deadline = Date.now() + 5_000;
      let pid;
      while ((pid = await answeringPid(port)) === null) {
        if (child.exitCode !== null || Date.now() > deadline) {
          throw new Error('redis-server did not start (apt-get install redis-server)');
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      if (pid !== child.pid) {
        child.kill('SIGKILL');
        throw new Error(`port ${port} is held by another Redis (pid ${pid})`);
      }
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await once(child, 'exit');
    },
  };
  await redis.start();
  return redis;
}

/** The ACL user and password of the Redis that `startSecuredRedis` starts. */
export const ACL_USER = { name: 'reverb', password: 's3cret-pass' };

/**
 * Certificates for one test, made with openssl in a temp dir: an authority (`ca.pem`) and a
 * server certificate it signed for 127.0.0.1 (`server.pem`, `server.key`).
 */
export function makeCertificates() {
  const dir = mkdtempSync(path.join(tmpdir(), 'reverb-rs-redis-tls-'));
  const run = (...args) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=test authority',
    '-keyout', 'ca.key', '-out', 'ca.pem');
  run('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', 'server.key', '-out', 'server.csr');
  writeFileSync(path.join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  run('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1',
    '-extfile', 'san.ext', '-out', 'server.pem');
  return { dir, ca: path.join(dir, 'ca.pem'), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * A Redis as managed services run it: TLS only (with `certificates`) and the ACL user
 * `ACL_USER`, the default user off. Resolves once it answers; `stop()` kills it.
 */
export async function startSecuredRedis(certificates) {
  const port = await freeLoopbackPort();
  const file = (name) => path.join(certificates.dir, name);
  const child = spawn('redis-server', [
    '--port', '0', '--tls-port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
    '--tls-cert-file', file('server.pem'), '--tls-key-file', file('server.key'),
    '--tls-ca-cert-file', file('ca.pem'), '--tls-auth-clients', 'no',
    '--user', 'default', 'off', '--user', ACL_USER.name, 'on', `>${ACL_USER.password}`, '~*', '&*', '+@all',
  ], { stdio: 'ignore' });
  child.on('error', () => {});
  const deadline = Date.now() + 5_000;
  while (!(await answersOverTls(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      throw new Error('redis-server did not start with TLS (apt-get install redis-server)');
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    port,
    url: (password = ACL_USER.password) => `rediss://${ACL_USER.name}:${password}@127.0.0.1:${port}/0`,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await once(child, 'exit');
    },
  };
}

/** Whether a Redis answers `PING` over TLS on `port` for the ACL user. */
function answersOverTls(port) {
  return new Promise((resolve) => {
    const socket = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false }, () => {
      socket.write(`AUTH ${ACL_USER.name} ${ACL_USER.password}\r\nPING\r\n`);
    });
    socket.setEncoding('utf8');
    let reply = '';
    socket.on('data', (chunk) => {
      reply += chunk;
      if (reply.includes('+PONG')) {
        socket.destroy();
        resolve(true);
      }
    });
    socket.on('error', () => resolve(false));
    socket.on('close', () => resolve(false));
  });
}
