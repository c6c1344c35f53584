// Helpers for end-to-end tests: start PHP scripts with the built extension, connect pusher-js.
import { spawn } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import Pusher from 'pusher-js';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const extension = process.env.REVERB_RS_EXTENSION ?? path.join(root, 'target/release/libreverb_rs.so');

/** Starts a PHP script with the extension; resolves once it printed a line matching `ready`. */
export async function startPhp(script, { env = {}, ready = /ws:\/\/[^:]+:(\d+)/ } = {}) {
  const child = spawn('php', ['-d', `extension=${extension}`, path.join(root, script)], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr.on('data', (chunk) => { output += chunk; });
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start:\n${output}`)), 10_000);
    child.stdout.on('data', (chunk) => {
      output += chunk;
      const match = output.match(ready);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.on('exit', (code) => reject(new Error(`${script} exited with ${code}:\n${output}`)));
  });
  return {
    port,
    output: () => output,
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const [code] = await once(child, 'exit');
      return code;
    },
  };
}

/** A pusher-js client pointed at a local reverb-rs server over plain WebSocket. */
export function connect(port, key, options = {}) {
  return new Pusher(key, {
    wsHost: '127.0.0.1',
    wsPort: port,
    forceTLS: false,
    enabledTransports: ['ws'],
    cluster: 'local',
    ...options,
  });
}

/** Resolves with the first payload of `event` on `channel`, or rejects after `ms`. */
export function nextEvent(channel, event, ms = 5_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} on ${channel.name} within ${ms} ms`)), ms);
    const handler = (data) => {
      clearTimeout(timer);
      channel.unbind(event, handler);
      resolve(data);
    };
    channel.bind(event, handler);
  });
}

/** A signed Pusher HTTP API request, as the server SDKs make it. */
export function signedEventsRequest(appId, key, secret, body) {
  const pathname = `/apps/${appId}/events`;
  const params = {
    auth_key: key,
    auth_timestamp: String(Math.floor(Date.now() / 1000)),
    auth_version: '1.0',
    body_md5: createHash('md5').update(body).digest('hex'),
  };
  const query = Object.keys(params).sort().map((k) => `${k}=${params[k]}`).join('&');
  const signature = createHmac('sha256', secret).update(`POST\n${pathname}\n${query}`).digest('hex');
  return `${pathname}?${query}&auth_signature=${signature}`;
}
