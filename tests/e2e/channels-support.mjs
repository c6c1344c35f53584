// Helpers for the channel tests: a PHP fixture driven through STDIN, locally signed auth for
// pusher-js and laravel-echo, pusher-js members in processes of their own, and bounded waits.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createHmac, randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { root, connect } from './support.mjs';

const extension = process.env.REVERB_RS_EXTENSION ?? path.join(root, 'target/release/libreverb_rs.so');

export const APP_ID = 'test';
export const KEY = 'test-key';
export const SECRET = 'test-secret';

/**
 * Starts the channels fixture with STDIN piped. The returned handle sends commands
 * (`publish`, `terminate`, `users`, `stats`) and waits for the engine events the fixture
 * prints. `env` reaches the fixture (`SCALING_REDIS_PORT` makes it a node of a Redis cluster,
 * `WEBHOOK_URL` gives it a webhook; the fixture's header lists the rest).
 */
export async function startChannelsServer(script = 'tests/e2e/fixtures/channels-server.php', { env = {} } = {}) {
  const child = spawn('php', ['-d', `extension=${extension}`, path.join(root, script)], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let output = '';
  let pending = '';
  const events = [];
  const acks = new Map();
  const listeners = new Set();
  const notify = () => listeners.forEach((listener) => listener());

  child.stderr.on('data', (chunk) => { output += chunk; });
  child.stdin.on('error', () => {}); // the fixture may exit before a last write lands
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start:\n${output}`)), 10_000);
    child.on('exit', (code) => reject(new Error(`${script} exited with ${code}:\n${output}`)));
    child.stdout.on('data', (chunk) => {
      output += chunk;
      pending += chunk;
      let newline;
      while ((newline = pending.indexOf('\n')) !== -1) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        const listening = line.match(/ws:\/\/[^:]+:(\d+)/);
        if (listening) {
          clearTimeout(timer);
          resolve(Number(listening[1]));
        } else if (line.startsWith('event ')) {
          events.push(JSON.parse(line.slice('event '.length)));
        } else if (line.startsWith('ack ')) {
          const ack = JSON.parse(line.slice('ack '.length));
          acks.set(ack.id, ack);
        }
      }
      notify();
    });
  });

  let nextId = 1;
  /** Resolves with the first value `probe()` returns that is not undefined, within `ms`. */
  function watch(probe, what, ms) {
    return new Promise((resolve, reject) => {
      const check = () => {
        const value = probe();
        if (value === undefined) return;
        clearTimeout(timer);
        listeners.delete(check);
        resolve(value);
      };
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(new Error(`${what} within ${ms} ms; fixture output:\n${output}`));
      }, ms);
      listeners.add(check);
      check();
    });
  }

  const server = {
    port,
    pid: child.pid,
    events,
    output: () => output,
    /** Sends one command and resolves with the fixture's result (rejects on its error). */
    async command(command, ms = 5_000) {
      const id = nextId++;
      child.stdin.write(`${JSON.stringify({ id, ...command })}\n`);
      const ack = await watch(() => acks.get(id), `no answer to ${JSON.stringify(command)}`, ms);
      if (ack.error !== undefined) throw new Error(`fixture refused ${JSON.stringify(command)}: ${ack.error}`);
      return ack.result;
    },
    publish(channels, event, data, except = null) {
      const payload = typeof data === 'string' ? data : JSON.stringify(data);
      return server.command({ publish: { channels, event, data: payload, except } });
    },
    terminate(userId) {
      return server.command({ terminate: userId });
    },
    /** The app's counters, as `ReverbRs\Server::stats()` returns them. */
    async stats() {
      return (await server.command({ stats: true }))[APP_ID];
    },
    /** Resolves with the first engine event (seen so far or later) that matches. */
    waitForEvent(match, ms = 5_000) {
      return watch(() => events.find((event) => matches(event, match)),
        `no engine event like ${JSON.stringify(match)}`, ms);
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      const [code] = await once(child, 'exit');
      return code;
    },
  };
  return server;
}

function matches(event, match) {
  return Object.entries(match).every(([key, value]) => event[key] === value);
}

/**
 * A pusher-js client in a process of its own, joined to `channel` as `user`; it prints
 * `terminated` when the server terminates it. Killing it, or its termination, leaves no
 * pusher-js close timer pending in this process.
 */
export async function memberProcess(node, channel, user) {
  const script = `
    import { connectSigned } from ${JSON.stringify(import.meta.url)};
    const pusher = connectSigned(${node.port}, { user: ${JSON.stringify(user)} });
    pusher.subscribe(${JSON.stringify(channel)}).bind('pusher:subscription_succeeded', () => console.log('joined'));
    pusher.connection.bind('error', (e) => { if (e.data?.code === 4009) console.log('terminated'); });
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    cwd: path.dirname(fileURLToPath(import.meta.url)),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => { output += chunk; });
  child.printed = (line) => waitUntil(() => output.includes(line), 5_000, `the member process printing ${line}`);
  await child.printed('joined');
  return child;
}

/** `key:hex(HMAC-SHA256(secret, message))`, the way a Laravel backend signs. */
export function sign(message, { key = KEY, secret = SECRET } = {}) {
  return `${key}:${createHmac('sha256', secret).update(message).digest('hex')}`;
}

/**
 * A pusher-js `channelAuthorization.customHandler` that signs locally.
 * - `user`: the presence member `{user_id, user_info}` to join as;
 * - `secret`: sign with this instead (a wrong one forges a bad signature);
 * - `sharedSecrets`: channel name => base64 key, returned as `shared_secret`
 *   (a random one is made for `private-encrypted-` channels that have none).
 */
export function channelAuthorizer({ user, secret = SECRET, sharedSecrets = {} } = {}) {
  return ({ socketId, channelName }, callback) => {
    const response = {};
    let message = `${socketId}:${channelName}`;
    if (channelName.startsWith('presence-')) {
      response.channel_data = JSON.stringify(user);
      message += `:${response.channel_data}`;
    }
    response.auth = sign(message, { secret });
    if (channelName.startsWith('private-encrypted-')) {
      sharedSecrets[channelName] ??= randomBytes(32).toString('base64');
      response.shared_secret = sharedSecrets[channelName];
    }
    callback(null, response);
  };
}

/** A pusher-js `userAuthentication.customHandler` signing in as `userData`. */
export function userAuthenticator(userData, { secret = SECRET } = {}) {
  return ({ socketId }, callback) => {
    const user_data = JSON.stringify(userData);
    callback(null, { auth: sign(`${socketId}::user::${user_data}`, { secret }), user_data });
  };
}

/** A pusher-js client with locally signed channel auth and, given `userData`, sign-in. */
export function connectSigned(port, { user, userData, secret, sharedSecrets, ...options } = {}) {
  return connect(port, KEY, {
    channelAuthorization: { customHandler: channelAuthorizer({ user, secret, sharedSecrets }) },
    ...(userData ? { userAuthentication: { customHandler: userAuthenticator(userData, { secret }) } } : {}),
    ...options,
  });
}

/** Resolves with the first emission of `event` on a pusher-js dispatcher, or rejects after `ms`. */
export function nextEmit(emitter, event, ms = 5_000, what = event) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.unbind(event, handler);
      reject(new Error(`no ${what} within ${ms} ms`));
    }, ms);
    const handler = (data) => {
      clearTimeout(timer);
      emitter.unbind(event, handler);
      resolve(data);
    };
    emitter.bind(event, handler);
  });
}

/** Polls `condition` every 20 ms; rejects after `ms`. */
export async function waitUntil(condition, ms = 5_000, what = 'condition') {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Resolves when a pusher-js client is connected. */
export function connected(pusher, ms = 5_000) {
  if (pusher.connection.state === 'connected') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      pusher.connection.unbind('connected', handler);
      reject(new Error(`not connected within ${ms} ms (state ${pusher.connection.state})`));
    }, ms);
    const handler = () => {
      clearTimeout(timer);
      pusher.connection.unbind('connected', handler);
      resolve();
    };
    pusher.connection.bind('connected', handler);
  });
}

/** Resolves like `promise`, or rejects if it takes longer than `ms`. */
export function within(promise, ms = 5_000, what = 'promise') {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
