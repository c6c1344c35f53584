// A webhook endpoint for the webhook tests: tests/e2e/fixtures/webhook-receiver.py, which
// checks every request with the official Python pusher SDK, seen from node.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { root } from './support.mjs';
import { KEY, SECRET, waitUntil } from './channels-support.mjs';

/**
 * Starts the receiver for the fixture's app. The handle tells what it received:
 * - `url`: where the fixture's `WEBHOOK_URL` must point;
 * - `events()`: every event of every request it accepted, in arrival order;
 * - `requests()`: the accepted request bodies (`{time_ms, events}`), in arrival order;
 * - `refused()`, `held()`: the bodies of the requests it answered 500 or left hanging, as told;
 * - `invalid()`: the lines about requests that failed `validate_webhook`;
 * - `waitFor(predicate, ms)`: resolves with the first truthy `predicate(events())`;
 * - `control(settings)`: changes what it does next (see the receiver's docstring).
 */
export async function startReceiver({ key = KEY, secret = SECRET } = {}) {
  const script = path.join(root, 'tests/e2e/fixtures/webhook-receiver.py');
  const child = spawn('python3', ['-u', script, key, secret], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let pending = '';
  const requests = [];
  const invalid = [];
  const unanswered = { refused: [], held: [] };
  child.stderr.on('data', (chunk) => { output += chunk; });
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the webhook receiver did not start:\n${output}`)), 10_000);
    child.on('exit', (code) => reject(new Error(`the webhook receiver exited with ${code}:\n${output}`)));
    child.stdout.on('data', (chunk) => {
      output += chunk;
      pending += chunk;
      let newline;
      while ((newline = pending.indexOf('\n')) !== -1) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        const listening = line.match(/^listening on (\d+)$/);
        if (listening) {
          clearTimeout(timer);
          resolve(Number(listening[1]));
        } else if (line.startsWith('webhook ')) {
          requests.push(JSON.parse(line.slice('webhook '.length)));
        } else if (line.startsWith('invalid ')) {
          invalid.push(line);
        } else {
          const [, outcome, body] = line.match(/^(refused|held) (.*)$/) ?? [];
          if (outcome) unanswered[outcome].push(JSON.parse(body));
        }
      }
    });
  });

  const events = () => requests.flatMap((request) => request.events);
  return {
    url: `http://127.0.0.1:${port}/webhook`,
    events,
    requests: () => [...requests],
    refused: () => [...unanswered.refused],
    held: () => [...unanswered.held],
    invalid: () => [...invalid],
    async waitFor(predicate, ms = 5_000, what = 'the webhook events') {
      let value;
      try {
        await waitUntil(() => (value = predicate(events())), ms, what);
      } catch (error) {
        error.message += `; received:\n${JSON.stringify(events())}`;
        throw error;
      }
      return value;
    },
    async control(settings) {
      const response = await fetch(`http://127.0.0.1:${port}/control`, {
        method: 'POST',
        body: JSON.stringify(settings),
      });
      if (response.status !== 200) throw new Error(`the receiver refused ${JSON.stringify(settings)}`);
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await once(child, 'exit');
    },
  };
}
