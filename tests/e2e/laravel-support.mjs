// Helpers for the tests that drive the fixture Laravel app (tests/laravel-app): run its
// artisan commands and `php -S` with the reverb_rs extension, sign in through its /login,
// and point laravel-echo at the server with the app's real /broadcasting/auth.
import { spawn, execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import Pusher from 'pusher-js';
import Echo from 'laravel-echo';
import { root } from './support.mjs';

export { root };
export const appDir = path.join(root, 'tests/laravel-app');
export const packageSrc = path.join(root, 'php/src');
export const extension = process.env.REVERB_RS_EXTENSION ?? path.join(root, 'target/release/libreverb_rs.so');
const php = (...args) => ['-d', `extension=${extension}`, ...args];

/** Environment for every PHP process of an app: the package path works for copies too. */
function phpEnv(env) {
  return { ...process.env, REVERB_RS_LARAVEL_SRC: packageSrc, ...env };
}

/** Resolves when `condition()` is truthy, polling every 20 ms; rejects after `ms`. */
export async function waitUntil(condition, ms = 5_000, what = 'condition') {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await condition();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`${what} not met within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Rejects with `what` if `promise` has not settled within `ms`. */
export function within(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms); }),
  ]).finally(() => clearTimeout(timer));
}

/** A port nothing listens on right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** A child process with its output kept, an `exited` promise and a bounded `stop()`. */
function track(child, name) {
  let output = '';
  child.stdout.on('data', (chunk) => { output += chunk; });
  child.stderr.on('data', (chunk) => { output += chunk; });
  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
  return {
    child,
    name,
    exited,
    output: () => output,
    running: () => child.exitCode === null && child.signalCode === null,
    /** Sends `signal` and waits up to `ms` for the exit; SIGKILL after that. */
    async stop(signal = 'SIGTERM', ms = 10_000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
        const timer = setTimeout(() => child.kill('SIGKILL'), ms);
        try {
          return await exited;
        } finally {
          clearTimeout(timer);
        }
      }
      return exited;
    },
  };
}

/** A long-running `php artisan ...args` in `cwd` (a queue worker, a server), tracked. */
export function startArtisan(args, { cwd = appDir, env = {} } = {}) {
  const child = spawn('php', php('artisan', ...args), {
    cwd,
    env: phpEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return track(child, `artisan ${args[0]}`);
}

/**
 * `php artisan reverb:start --host=127.0.0.1 --port=0` in `cwd`; resolves once the server
 * printed the port it bound.
 */
export async function startReverb({ cwd = appDir, env = {}, args = [] } = {}) {
  const server = startArtisan(['reverb:start', '--host=127.0.0.1', '--port=0', ...args], { cwd, env });
  const { child } = server;
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`reverb:start did not start within 15 s:\n${server.output()}`)), 15_000);
    const check = () => {
      const match = server.output().match(/Starting (?:secure )?server on [^\s:]+:(\d+)/);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout.on('data', check);
    server.exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`reverb:start exited (${code ?? signal}):\n${server.output()}`));
    });
  });
  return { ...server, port };
}

/**
 * The app under `php -S 127.0.0.1:<free port> -t public public/index.php`, publishing to and
 * pointing its page at the reverb server on `reverbPort`.
 */
export async function startWeb({ cwd = appDir, reverbPort, env = {} } = {}) {
  let lastError;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const child = spawn('php', php('-S', `127.0.0.1:${port}`, '-t', 'public', 'public/index.php'), {
      cwd,
      env: phpEnv({ REVERB_PORT: String(reverbPort), ...env }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const web = track(child, 'php -S');
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitUntil(async () => {
        if (!web.running()) throw new Error(`php -S exited:\n${web.output()}`);
        try {
          const response = await fetch(`${url}/login`, { redirect: 'manual', signal: AbortSignal.timeout(2_000) });
          await response.arrayBuffer();
          return true;
        } catch {
          return false;
        }
      }, 10_000, `php -S answering on ${url}`);
      return { ...web, port, url };
    } catch (error) {
      lastError = error;
      await web.stop('SIGKILL');
    }
  }
  throw lastError;
}

/**
 * Runs `php artisan ...args` to the end (20 s at most), with the extension unless
 * `withExtension` is false: { code, stdout, stderr }.
 */
export function artisan(args, { cwd = appDir, env = {}, timeout = 20_000, withExtension = true } = {}) {
  const argv = withExtension ? php('artisan', ...args) : ['artisan', ...args];
  return new Promise((resolve) => {
    execFile('php', argv, { cwd, env: phpEnv(env), timeout }, (error, stdout, stderr) => {
      resolve({ code: error ? (error.code ?? error.signal) : 0, stdout, stderr });
    });
  });
}

/** The reverb server and the app over `php -S`; stop() ends both. */
export async function startStack(options = {}) {
  const reverb = await startReverb(options);
  let web;
  try {
    web = await startWeb({ ...options, reverbPort: reverb.port });
  } catch (error) {
    await reverb.stop();
    throw error;
  }
  return {
    reverb,
    web,
    async stop() {
      await Promise.all([web.stop(), reverb.stop()]);
    },
  };
}

/** Resolves when an Echo channel is subscribed; rejects on its error() or after `ms`. */
export function subscribed(channel, ms = 10_000) {
  return within(new Promise((resolve, reject) => {
    channel.subscribed(resolve);
    channel.error((error) => reject(new Error(`subscription to ${channel.name} failed: ${JSON.stringify(error)}`)));
  }), ms, `subscription to ${channel.name}`);
}

/** Resolves with the next value pushed into `list` after `from` entries. */
export async function nextPushed(list, from, what, ms = 10_000) {
  await waitUntil(() => list.length > from, ms, what);
  return list[from];
}

/** KEY=VALUE pairs of an app's .env (quotes removed). */
export function readEnv(dir = appDir) {
  const env = {};
  for (const line of readFileSync(path.join(dir, '.env'), 'utf8').split('\n')) {
    const match = line.match(/^([A-Z0-9_]+)=(.*)$/);
    if (match) env[match[1]] = match[2].replace(/^"(.*)"$/, '$1');
  }
  return env;
}

/**
 * A copy of an app (the fixture app by default) in a temp dir, without the contents of
 * storage/ and bootstrap/cache (so no sessions, cache entries or restart signals come along).
 */
export function copyApp(source = appDir) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'reverb-rs-app-'));
  cpSync(source, dir, {
    recursive: true,
    verbatimSymlinks: true,
    filter: (file) => {
      const relative = path.relative(source, file);
      return !/^(storage|bootstrap\/cache)\//.test(relative) || path.basename(file) === '.gitignore';
    },
  });
  for (const sub of ['app', 'framework/cache/data', 'framework/sessions', 'framework/views', 'logs']) {
    mkdirSync(path.join(dir, 'storage', sub), { recursive: true });
  }
  mkdirSync(path.join(dir, 'bootstrap/cache'), { recursive: true });
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Edits a file of an app in place. */
export function editFile(dir, file, edit) {
  const target = path.join(dir, file);
  writeFileSync(target, edit(readFileSync(target, 'utf8')));
}

/**
 * Signs in through the app's GET /login?name=... (as JSON): the user, the CSRF token and the
 * session cookie to send back.
 */
export async function login(url, name) {
  const response = await fetch(`${url}/login?name=${encodeURIComponent(name)}`, {
    headers: { Accept: 'application/json' },
    redirect: 'manual',
    signal: AbortSignal.timeout(10_000),
  });
  if (!response.ok) throw new Error(`/login answered ${response.status}: ${await response.text()}`);
  const body = await response.json();
  const cookie = response.headers.getSetCookie().map((header) => header.split(';')[0]).join('; ');
  return { user: body.user, csrf: body.csrf_token, cookie, url };
}

/** POSTs to the app as a signed-in session; resolves with { status, body }. */
export async function postAs(session, pathname, { form, json, headers = {} }) {
  const response = await fetch(`${session.url}${pathname}`, {
    method: 'POST',
    headers: {
      Accept: 'application/json',
      ...(session.cookie ? { Cookie: session.cookie } : {}),
      ...(session.csrf ? { 'X-CSRF-TOKEN': session.csrf } : {}),
      'Content-Type': json ? 'application/json' : 'application/x-www-form-urlencoded',
      ...headers,
    },
    body: json ? JSON.stringify(json) : new URLSearchParams(form).toString(),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  let body = text;
  try { body = JSON.parse(text); } catch { /* not JSON */ }
  return { status: response.status, body };
}

/** POSTs `form` to the app's `pathname` as the session; calls a pusher-js style `callback`. */
function authorizeWith(session, pathname, form, callback) {
  postAs(session, pathname, { form })
    .then(({ status, body }) => (status === 200
      ? callback(null, body)
      : callback(Object.assign(new Error(`${pathname} answered ${status}`), { status }), null)))
    .catch((error) => callback(error, null));
}

/**
 * laravel-echo as a Laravel page sets it up for Reverb, authorizing channels with the app's
 * real POST /broadcasting/auth and signing in (pusher-js's `signin()`) with its POST
 * /broadcasting/user-auth, with the session's cookie (pusher-js's Node transport cannot send
 * cookies itself, so the documented `authorizer` and `customHandler` hooks do the requests).
 * `options` go to Echo as they are, e.g. `{ broadcaster: 'pusher', cluster: 'mt1' }`.
 */
export function echoFor(session, reverbPort, key, options = {}) {
  return new Echo({
    broadcaster: 'reverb',
    key,
    Pusher,
    wsHost: '127.0.0.1',
    wsPort: reverbPort,
    wssPort: reverbPort,
    forceTLS: false,
    enabledTransports: ['ws'],
    authorizer: (channel) => ({
      authorize: (socketId, callback) => {
        authorizeWith(session, '/broadcasting/auth', { socket_id: socketId, channel_name: channel.name }, callback);
      },
    }),
    userAuthentication: {
      customHandler: ({ socketId }, callback) => {
        authorizeWith(session, '/broadcasting/user-auth', { socket_id: socketId }, callback);
      },
    },
    ...options,
  });
}

/** A bare pusher-js client on the server. */
export function pusherFor(reverbPort, key) {
  return new Pusher(key, {
    wsHost: '127.0.0.1',
    wsPort: reverbPort,
    forceTLS: false,
    enabledTransports: ['ws'],
    cluster: '',
  });
}
