// A throwaway redis-server (Debian's) on a free loopback port, for the scaling tests.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';

/** A free TCP port on 127.0.0.1. */
export function freeLoopbackPort() {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function accepting(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => { socket.end(); resolve(true); });
    socket.on('error', () => resolve(false));
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
      while (!(await accepting(port))) {
        if (child.exitCode !== null || Date.now() > deadline) {
          throw new Error('redis-server did not start (apt-get install redis-server)');
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
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
