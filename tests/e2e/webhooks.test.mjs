// Webhooks as an app's backend receives them, with real pusher-js clients on one, two and
// three nodes of tests/e2e/fixtures/channels-server.php, and an endpoint that checks every
// request with the official Python pusher SDK (tests/e2e/fixtures/webhook-receiver.py):
// occupancy and presence members once per cluster, whispers, a quick return absorbed by the
// delay, subscription counts, a node killed with SIGKILL, and an endpoint that fails, hangs
// or never answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  startChannelsServer, connectSigned, nextEmit, waitUntil, memberProcess, within,
} from './channels-support.mjs';
import { startRedis } from './redis-support.mjs';
import { startReceiver } from './webhook-support.mjs';

/** How long a killed node's subjects may linger: node_timeout (3 s in the fixture) and a third, and a margin. */
const DEAD_NODE_BOUND_MS = 4_000 + 2_000;

/**
 * What one test starts, stopped when the test ends however it ends: pusher-js clients first,
 * then member processes, fixtures (SIGTERM; one still running after 5 s fails the test),
 * receivers and Redis.
 */
function resources(t) {
  const clients = [];
  const children = [];
  const servers = [];
  const services = [];
  t.after(async () => {
    clients.forEach((pusher) => pusher.disconnect());
    children.forEach((child) => child.kill('SIGKILL'));
    const stops = servers.map((server) => within(server.stop(), 5_000, `the fixture on port ${server.port} stopping on SIGTERM`)
      .catch(async (error) => {
        await server.stop('SIGKILL');
        throw error;
      }));
    const results = await Promise.allSettled(stops);
    await Promise.all(services.map((service) => service.stop()));
    const failed = results.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
  });
  return {
    /** A webhook receiver of its own, so that the test counts only its own events. */
    async receiver() {
      const receiver = await startReceiver();
      services.push(receiver);
      return receiver;
    },
    /** A Redis of its own, so that no node of an earlier test is reaped into this one. */
    async redis() {
      const redis = await startRedis();
      services.push(redis);
      return redis;
    },
    /** A fixture with `env`; a cluster node (SCALING_REDIS_PORT) once it reached Redis. */
    async server(env) {
      const server = await startChannelsServer(undefined, { env });
      servers.push(server);
      if (env.SCALING_REDIS_PORT) await server.waitForEvent({ type: 'scaling_connected' });
      return server;
    },
    /** A pusher-js client in this process (`connectSigned`'s options). */
    client(server, options = {}) {
      const pusher = connectSigned(server.port, options);
      clients.push(pusher);
      return pusher;
    },
    /** A pusher-js member in a process of its own, for sockets on a node that will be killed. */
    async member(server, channel, user) {
      const child = await memberProcess(server, channel, user);
      children.push(child);
      return child;
    },
  };
}

/** Subscribes `pusher` to `name`; resolves with the channel once the server confirmed it. */
async function subscribed(pusher, name) {
  const channel = pusher.subscribe(name);
  await nextEmit(channel, 'pusher:subscription_succeeded', 5_000, `${name} subscribed`);
  return channel;
}

/** The events every test here counts exactly: all but the throttled subscription counts. */
function counted(events) {
  return events.filter((event) => event.name !== 'subscription_count');
}

/**
 * Waits until `count` counted events arrived after the first `from`, then `quietMs` more, so
 * that one that should not come had its chance; resolves with those after `from`.
 */
async function settled(receiver, from, count, { ms = 5_000, quietMs = 1_000 } = {}) {
  await receiver.waitFor((events) => counted(events).length >= from + count, ms,
    `${count} webhook events after the first ${from}`);
  await sleep(quietMs);
  return counted(receiver.events()).slice(from);
}

/** An event as a string that does not depend on the order of its fields. */
function key(event) {
  return JSON.stringify(Object.fromEntries(Object.entries(event).sort()));
}

/** Asserts the same events, in any order: each one exactly as often. */
function assertSameEvents(actual, expected, message) {
  assert.deepEqual(actual.map(key).sort(), expected.map(key).sort(), message);
}

/** Asserts that `first` came before `then` in `events`. */
function assertBefore(events, first, then) {
  const at = (wanted) => events.findIndex((event) => key(event) === key(wanted));
  assert.ok(at(first) !== -1 && at(first) < at(then), `${JSON.stringify(first)} before ${JSON.stringify(then)}`);
}

// The occupancy and member events, as the receiver gets them.
const occupied = (channel) => ({ name: 'channel_occupied', channel });
const vacated = (channel) => ({ name: 'channel_vacated', channel });
const added = (channel, user_id) => ({ name: 'member_added', channel, user_id });
const removed = (channel, user_id) => ({ name: 'member_removed', channel, user_id });

/** Resolves once the server has read `count` client messages past `from` of its `messages_in`. */
async function readMessages(server, from, count, ms = 10_000) {
  const deadline = Date.now() + ms;
  while ((await server.stats()).messages_in < from + count) {
    assert.ok(Date.now() < deadline, `the server read ${count} messages within ${ms} ms`);
    await sleep(5);
  }
}

/** The resident set of a process, in bytes. */
function residentBytes(pid) {
  const kib = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(kib[1]) * 1024;
}

test('pusher-js on one node: channels and members come and go once, whispers are reported, a quick return is not', { timeout: 30_000 }, async (t) => {
  const run = resources(t);
  const receiver = await run.receiver();
  const server = await run.server({ WEBHOOK_URL: receiver.url, WEBHOOK_DELAY_MS: '1000' });
  const ada = { user_id: 'ada', user_info: { name: 'Ada' } };

  const adaTab1 = run.client(server, { user: ada });
  const adaRoom = await subscribed(adaTab1, 'presence-room');
  const adaTab2 = run.client(server, { user: ada });
  await subscribed(adaTab2, 'presence-room');
  const bob = run.client(server, { user: { user_id: 'bob' } });
  await subscribed(bob, 'presence-room');
  const bobChat = await subscribed(bob, 'private-chat');

  for (const n of [1, 2, 3]) bobChat.trigger('client-typing', { n });
  adaRoom.trigger('client-wave', { to: 'bob' });
  // The client_event each whisper must become: the data as a JSON string, the user on presence only.
  const whispered = (channel, event, data, socketId, userId) => ({
    name: 'client_event', channel, event, data: JSON.stringify(data), socket_id: socketId,
    ...(userId ? { user_id: userId } : {}),
  });
  const whispers = [
    ...[1, 2, 3].map((n) => whispered('private-chat', 'client-typing', { n }, bob.connection.socket_id)),
    whispered('presence-room', 'client-wave', { to: 'bob' }, adaTab1.connection.socket_id, 'ada'),
  ];

  // Dana, alone in her channel, reloads her page: she is back before the delay is over.
  const dana = { user_id: 'dana' };
  const danaBefore = run.client(server, { user: dana });
  await subscribed(danaBefore, 'presence-lobby');
  await receiver.waitFor((events) => events.some((e) => e.name === 'member_added' && e.user_id === 'dana'));
  danaBefore.disconnect();
  const danaAfter = run.client(server, { user: dana });
  await within(subscribed(danaAfter, 'presence-lobby'), 1_000, 'the reload, which must beat the 1 s delay');

  const expectedArrivals = [
    occupied('presence-room'), added('presence-room', 'ada'), added('presence-room', 'bob'),
    occupied('private-chat'), ...whispers,
    occupied('presence-lobby'), added('presence-lobby', 'dana'),
  ];
  const arrivals = await settled(receiver, 0, expectedArrivals.length, { quietMs: 2_000 });
  assertSameEvents(arrivals, expectedArrivals, 'one member_added for Ada\'s two tabs, and nothing for Dana\'s reload');
  assertBefore(arrivals, occupied('presence-room'), added('presence-room', 'ada'));
  assert.deepEqual(arrivals.filter((e) => e.event === 'client-typing'), whispers.slice(0, 3), 'whispers in order');

  // Ada closes one tab: she is still there. Then everyone leaves.
  adaTab2.disconnect();
  await sleep(1_500);
  assert.deepEqual(counted(receiver.events()).slice(arrivals.length), [], 'closing one of two tabs is not leaving');
  // Ada goes before Bob, so that his is the channel's last socket.
  adaTab1.disconnect();
  await receiver.waitFor((events) => events.some((e) => e.name === 'member_removed' && e.user_id === 'ada'));
  bob.disconnect();
  danaAfter.disconnect();
  const departures = await settled(receiver, arrivals.length, 6, { quietMs: 2_000 });
  assertSameEvents(departures, [
    removed('presence-room', 'ada'), removed('presence-room', 'bob'), vacated('presence-room'),
    vacated('private-chat'), removed('presence-lobby', 'dana'), vacated('presence-lobby'),
  ]);
  assertBefore(departures, removed('presence-room', 'bob'), vacated('presence-room'));
  assertBefore(departures, removed('presence-lobby', 'dana'), vacated('presence-lobby'));

  assert.deepEqual(receiver.invalid(), [], 'every request passed validate_webhook');
  assert.ok(receiver.requests().some((request) => request.events.length > 1), 'some events shared a request');
});

test('with subscription_count on, pusher-js hears the count as a second and third client subscribe, and so does the webhook', { timeout: 20_000 }, async (t) => {
  const run = resources(t);
  const receiver = await run.receiver();
  const server = await run.server({ WEBHOOK_URL: receiver.url, SUBSCRIPTION_COUNT: '1' });
  const heard = { first: [], third: [] };
  // Subscribes with a listener of the counts, before the server can send the first one.
  const listen = (pusher, into) => {
    const channel = pusher.subscribe('counted');
    channel.bind('pusher:subscription_count', (data) => heard[into].push(data.subscription_count));
    return nextEmit(channel, 'pusher:subscription_succeeded');
  };
  await listen(run.client(server), 'first');
  await waitUntil(() => heard.first.at(-1) === 1, 3_000, 'the first client hearing 1');
  await subscribed(run.client(server), 'counted');
  await waitUntil(() => heard.first.at(-1) === 2, 3_000, 'the first client hearing 2');
  await listen(run.client(server), 'third');
  await waitUntil(() => heard.first.at(-1) === 3 && heard.third.at(-1) === 3, 3_000, 'both hearing 3');
  assert.deepEqual(heard.first, [1, 2, 3]);

  const counts = await receiver.waitFor((events) => {
    const seen = events.filter((e) => e.name === 'subscription_count' && e.channel === 'counted');
    return seen.at(-1)?.subscription_count === 3 && seen;
  });
  assert.deepEqual(counts.map((e) => e.subscription_count), [1, 2, 3]);
  assert.deepEqual(receiver.invalid(), []);
});

test('two nodes over Redis: channels and members spread over both are occupied, added, removed and vacated once', { timeout: 30_000 }, async (t) => {
  const run = resources(t);
  const [redis, receiver] = await Promise.all([run.redis(), run.receiver()]);
  const env = { WEBHOOK_URL: receiver.url, WEBHOOK_DELAY_MS: '500', SCALING_REDIS_PORT: String(redis.port) };
  const [a, b] = [await run.server(env), await run.server(env)];
  const ada = { user_id: 'ada' };

  const adaOnA = run.client(a, { user: ada });
  await subscribed(adaOnA, 'presence-team');
  await subscribed(adaOnA, 'news');
  const adaOnB = run.client(b, { user: ada });
  await subscribed(adaOnB, 'presence-team');
  await subscribed(adaOnB, 'news');
  const bobOnB = run.client(b, { user: { user_id: 'bob' } });
  await subscribed(bobOnB, 'presence-team');
  await subscribed(bobOnB, 'news');
  const arrivals = await settled(receiver, 0, 4);
  assertSameEvents(arrivals, [
    occupied('presence-team'), added('presence-team', 'ada'), occupied('news'), added('presence-team', 'bob'),
  ]);

  // Ada's socket on A goes: she and "news" still have sockets on B.
  adaOnA.disconnect();
  await sleep(1_500);
  assert.deepEqual(counted(receiver.events()).slice(arrivals.length), [], 'a node\'s last socket is not the cluster\'s');
  // Then Bob, and last Ada, whose socket on B is the last of both channels in the cluster.
  bobOnB.disconnect();
  await receiver.waitFor((events) => events.some((e) => e.name === 'member_removed' && e.user_id === 'bob'));
  adaOnB.disconnect();
  const departures = await settled(receiver, arrivals.length, 4);
  assertSameEvents(departures, [
    removed('presence-team', 'bob'), removed('presence-team', 'ada'), vacated('presence-team'), vacated('news'),
  ]);
  assertBefore(departures, removed('presence-team', 'ada'), vacated('presence-team'));
  assert.deepEqual(receiver.invalid(), []);
});

test('three nodes over Redis: a node killed with SIGKILL has its users removed, and its own channel vacated, once', { timeout: 30_000 }, async (t) => {
  const run = resources(t);
  const [redis, receiver] = await Promise.all([run.redis(), run.receiver()]);
  const env = { WEBHOOK_URL: receiver.url, WEBHOOK_DELAY_MS: '500', SCALING_REDIS_PORT: String(redis.port) };
  const [a, b, c] = [await run.server(env), await run.server(env), await run.server(env)];

  await subscribed(run.client(a, { user: { user_id: 'watcher' } }), 'presence-lobby');
  await subscribed(run.client(b, { user: { user_id: 'bea' } }), 'presence-lobby');
  const carol = await run.member(c, 'presence-lobby', { user_id: 'carol' });
  const dave = await run.member(c, 'presence-solo', { user_id: 'dave' });
  const arrivals = await settled(receiver, 0, 6);
  assertSameEvents(arrivals, [
    occupied('presence-lobby'), added('presence-lobby', 'watcher'), added('presence-lobby', 'bea'),
    added('presence-lobby', 'carol'), occupied('presence-solo'), added('presence-solo', 'dave'),
  ]);

  await c.stop('SIGKILL');
  carol.kill('SIGKILL');
  dave.kill('SIGKILL');
  const departures = await settled(receiver, arrivals.length, 3, { ms: DEAD_NODE_BOUND_MS + 2_000, quietMs: 1_500 });
  assertSameEvents(departures, [
    removed('presence-lobby', 'carol'), removed('presence-solo', 'dave'), vacated('presence-solo'),
  ], 'presence-lobby keeps its sockets on A and B');
  assert.deepEqual(receiver.invalid(), []);
});

test('an endpoint that fails twice, then hangs past the timeout, then recovers gets every event once and in order', { timeout: 40_000 }, async (t) => {
  const run = resources(t);
  const receiver = await run.receiver();
  await receiver.control({ next: ['fail', 'fail', 'hang'] });
  const server = await run.server({ WEBHOOK_URL: receiver.url, WEBHOOK_TIMEOUT: '1', WEBHOOK_DELAY_MS: '200' });

  const writer = run.client(server);
  const log = await subscribed(writer, 'private-log');
  const lines = Array.from({ length: 12 }, (_, seq) => seq);
  const { messages_in: before } = await server.stats();
  for (const seq of lines) {
    await sleep(250);
    log.trigger('client-line', { seq });
  }
  // pusher-js drops a message sent just before it disconnects: wait until the server has them all.
  await readMessages(server, before, lines.length);
  const socketId = writer.connection.socket_id;
  writer.disconnect();

  const expected = [
    occupied('private-log'),
    ...lines.map((seq) => ({
      name: 'client_event', channel: 'private-log', event: 'client-line', data: JSON.stringify({ seq }), socket_id: socketId,
    })),
    vacated('private-log'),
  ];
  const events = await settled(receiver, 0, expected.length, { ms: 25_000 });
  assert.deepEqual(events, expected, 'every event once, in the order it happened');
  assert.equal(receiver.refused().length, 2);
  assert.equal(receiver.held().length, 1);
  assert.deepEqual(receiver.invalid(), []);
  const { webhooks } = await server.stats();
  assert.ok(webhooks.failed >= 3, `failed ${webhooks.failed}`);
  assert.ok(webhooks.retried >= 3, `retried ${webhooks.retried}`);
  assert.equal(webhooks.dropped, 0);
});

test('an endpoint that never answers: batches are given up after retry_for, memory stays bounded, drops are counted, fan-out goes on', { timeout: 40_000 }, async (t) => {
  const run = resources(t);
  const receiver = await run.receiver();
  await receiver.control({ hang: true });
  const server = await run.server({
    WEBHOOK_URL: receiver.url,
    WEBHOOK_TIMEOUT: '1',
    WEBHOOK_RETRY_FOR: '2',
    WEBHOOK_QUEUE_SIZE: '100',
    CLIENT_EVENTS_PER_SECOND: '0',
  });
  const news = await subscribed(run.client(server), 'news');
  const writers = [];
  for (const n of [1, 2]) {
    const pusher = run.client(server);
    writers.push(await subscribed(pusher, `private-flood-${n}`));
  }
  // 8 KB a whisper: 4000 of them held for the endpoint would be 32 MB. They go 200 at a
  // time, each lot once the server has read the last, so that what grows is what the server
  // keeps, not what it has yet to read.
  const blob = 'x'.repeat(8_000);
  const flood = async (count) => {
    for (let sent = 0; sent < count; sent += 200) {
      const { messages_in: before } = await server.stats();
      for (let i = 0; i < 200; i++) writers[i % writers.length].trigger('client-flood', { i, blob });
      await readMessages(server, before, 200);
    }
  };
  // A first lot fills the queue and warms the allocator: what comes after is growth.
  await flood(400);
  const rssBefore = residentBytes(server.pid);
  await flood(4_000);
  const rssAfter = residentBytes(server.pid);
  assert.ok(rssAfter - rssBefore < 16 * 1024 * 1024,
    `RSS grew by ${((rssAfter - rssBefore) / 1024 / 1024).toFixed(1)} MiB while the endpoint hung`);

  const { webhooks } = await server.stats();
  assert.ok(webhooks.dropped > 0, `dropped ${webhooks.dropped}`);
  const batches = () => new Set(receiver.held().map((request) => JSON.stringify(request.events))).size;
  await waitUntil(() => batches() >= 2, 5_000, 'a second batch sent once the first was given up');
  const delivered = nextEmit(news, 'after-flood', 2_000, 'the publish after the flood');
  await server.publish(['news'], 'after-flood', { ok: true });
  assert.deepEqual(await delivered, { ok: true });
});
