// A throwaway redis-server (Debian's) on a free loopback port, for the scaling tests.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';

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
