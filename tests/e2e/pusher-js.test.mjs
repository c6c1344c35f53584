// pusher-js, the official browser/Node client, against servers run by PHP scripts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startPhp, connect, nextEvent } from './support.mjs';

test('pusher-js receives the demo clock ticks', async () => {
  const server = await startPhp('examples/clock/server.php', { env: { DEMO_PORT: '0' } });
  const pusher = connect(server.port, 'demo-key');
  try {
    const tick = await nextEvent(pusher.subscribe('clock'), 'tick');
    assert.equal(typeof tick.tick, 'number');
    assert.match(tick.time, /^\d\d:\d\d:\d\d$/);
  } finally {
    pusher.disconnect();
    assert.equal(await server.stop(), 0);
  }
});

test('events published from PHP reach subscribers, and the excepted socket is skipped', async () => {
  const server = await startPhp('tests/e2e/fixtures/echo-server.php');
  const first = connect(server.port, 'test-key');
  const second = connect(server.port, 'test-key');
  try {
    const firstChannel = first.subscribe('news');
    const firstReceived = [];
    firstChannel.bind('greeting', (data) => firstReceived.push(data));
    await nextEvent(firstChannel, 'pusher:subscription_succeeded');
    await waitUntil(() => firstReceived.length === 1);

    const secondChannel = second.subscribe('news');
    const secondReceived = [];
    secondChannel.bind('greeting', (data) => secondReceived.push(data));
    await nextEvent(secondChannel, 'pusher:subscription_succeeded');
    const secondId = () => second.connection.socket_id;
    // The first client sees both greetings about the second subscriber...
    await waitUntil(() => firstReceived.filter((d) => d.subscriber === secondId()).length === 2);
    await new Promise((resolve) => setTimeout(resolve, 200));
    // ...while the second, excluded from the "others" publish, sees only the one for all.
    assert.deepEqual(secondReceived.map((d) => d.to), ['all']);
    assert.deepEqual(firstReceived.filter((d) => d.subscriber === secondId()).map((d) => d.to), ['all', 'others']);
  } finally {
    first.disconnect();
    second.disconnect();
    assert.equal(await server.stop(), 0);
  }
});

test('an unknown app key is refused and pusher-js stops reconnecting', async () => {
  const server = await startPhp('tests/e2e/fixtures/echo-server.php');
  const pusher = connect(server.port, 'no-such-key');
  try {
    const error = await new Promise((resolve) => pusher.connection.bind('error', resolve));
    assert.equal(error.error.data.code, 4001);
    await waitUntil(() => ['failed', 'disconnected', 'unavailable'].includes(pusher.connection.state));
  } finally {
    pusher.disconnect();
    await server.stop();
  }
});

test('stopping the server tells pusher-js to reconnect', async () => {
  const server = await startPhp('tests/e2e/fixtures/echo-server.php');
  const pusher = connect(server.port, 'test-key');
  try {
    await nextEvent(pusher.subscribe('news'), 'pusher:subscription_succeeded');
    const closing = new Promise((resolve) => pusher.connection.bind('state_change', ({ current }) => {
      if (current !== 'connected') resolve(current);
    }));
    assert.equal(await server.stop(), 0);
    assert.ok(['connecting', 'unavailable'].includes(await closing));
  } finally {
    pusher.disconnect();
  }
});

async function waitUntil(condition, ms = 5_000) {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
