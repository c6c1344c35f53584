// Two (and three) server processes sharing one redis-server act as one, seen through
// pusher-js: events, presence, whispers, terminations and HTTP API reads cross nodes, a
// node killed with SIGKILL loses its presence members on the others, and a node without
// Redis keeps serving its own sockets until Redis is back.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import {
  KEY, SECRET, startChannelsServer, connectSigned, nextEmit, waitUntil, memberProcess,
} from './channels-support.mjs';
import { startRedis } from './redis-support.mjs';

/** How long a killed node's members may linger: node_timeout (3 s in the fixture) and a third. */
const DEAD_NODE_BOUND_MS = 4_000 + 2_000;

let redis;
const nodes = [];
const clients = [];

async function startNode() {
  const node = await startChannelsServer(undefined, { env: { SCALING_REDIS_PORT: String(redis.port) } });
  nodes.push(node);
  await node.waitForEvent({ type: 'scaling_connected' });
  return node;
}

function client(node, options = {}) {
  const pusher = connectSigned(node.port, options);
  clients.push(pusher);
  return pusher;
}

/** Disconnects the test's pusher-js clients before their nodes stop, then stops the nodes. */
async function finish(...stopping) {
  clients.splice(0).forEach((pusher) => pusher.disconnect());
  await Promise.all(stopping.map((node) => node.stop()));
}

/** A signed GET of the Pusher HTTP API. */
async function apiGet(node, route, params = {}) {
  const path = `/apps/test${route}`;
  const query = { auth_key: KEY, auth_timestamp: String(Math.floor(Date.now() / 1000)), auth_version: '1.0', ...params };
  const sorted = Object.keys(query).sort().map((k) => `${k}=${query[k]}`).join('&');
  const signature = createHmac('sha256', SECRET).update(`GET\n${path}\n${sorted}`).digest('hex');
  const response = await fetch(`http://127.0.0.1:${node.port}${path}?${sorted}&auth_signature=${signature}`);
  return { status: response.status, body: await response.json() };
}

before(async () => {
  redis = await startRedis();
});

after(async () => {
  clients.forEach((pusher) => pusher.disconnect());
  await Promise.all(nodes.map((node) => node.stop('SIGKILL')));
  await redis.stop();
});

test('an event published on node A reaches a pusher-js client on node B', async () => {
  const [a, b] = [await startNode(), await startNode()];
  const pusher = client(b);
  const channel = pusher.subscribe('orders');
  await nextEmit(channel, 'pusher:subscription_succeeded');
  const received = nextEmit(channel, 'order.shipped');
  await a.publish(['orders'], 'order.shipped', { id: 7 });
  assert.deepEqual(await received, { id: 7 });
  await finish(a, b);
});

test('presence, whispers, terminations and HTTP API reads span the nodes', async () => {
  const [a, b] = [await startNode(), await startNode()];
  const ada = { user_id: 'ada', user_info: { name: 'Ada' } };
  const bob = { user_id: 'bob', user_info: { name: 'Bob' } };

  const adaOnA = client(a, { user: ada }).subscribe('presence-room');
  await nextEmit(adaOnA, 'pusher:subscription_succeeded');
  const bobJoined = nextEmit(adaOnA, 'pusher:member_added');
  const bobOnB = client(b, { user: bob }).subscribe('presence-room');
  const members = await nextEmit(bobOnB, 'pusher:subscription_succeeded');
  assert.equal(members.count, 2);
  assert.deepEqual(members.get('ada').info, { name: 'Ada' });
  assert.equal((await bobJoined).id, 'bob');

  // Ada's second tab, on node B: she stays one member everywhere.
  const adaTab2 = client(b, { user: ada });
  const adaOnB = adaTab2.subscribe('presence-room');
  assert.equal((await nextEmit(adaOnB, 'pusher:subscription_succeeded')).count, 2);
  for (const node of [a, b]) {
    const { body } = await apiGet(node, '/channels/presence-room', { info: 'user_count,subscription_count' });
    assert.deepEqual(body, { occupied: true, user_count: 2 });
    const users = await apiGet(node, '/channels/presence-room/users');
    assert.deepEqual(users.body.users.map((u) => u.id).sort(), ['ada', 'bob']);
    assert.equal((await apiGet(node, '/connections')).body.connections, 3);
  }

  // A whisper from node B reaches node A.
  const whisper = nextEmit(adaOnA, 'client-typing');
  bobOnB.trigger('client-typing', { typing: true });
  assert.deepEqual(await whisper, { typing: true });

  // Closing Ada's tab on B is not her leaving: she still has one on A.
  const removals = [];
  bobOnB.bind('pusher:member_removed', (member) => removals.push(member.id));
  adaTab2.disconnect();
  await waitUntil(() => b.events.some((e) => e.type === 'connection_closed'), 5_000, 'tab closed');

  // Terminating Carl through node B closes his socket on node A; Bob hears he left.
  const carlJoined = nextEmit(bobOnB, 'pusher:member_added');
  const carl = await memberProcess(a, 'presence-room', { user_id: 'carl' });
  assert.equal((await carlJoined).id, 'carl');
  const left = nextEmit(bobOnB, 'pusher:member_removed');
  await b.terminate('carl');
  await carl.printed('terminated');
  assert.equal((await left).id, 'carl');
  assert.deepEqual(removals, ['carl']);
  carl.kill('SIGKILL');
  await finish(a, b);
});

test('a node killed with SIGKILL loses its presence members on the other nodes', async () => {
  const [a, c] = [await startNode(), await startNode()];
  const watcher = client(a, { user: { user_id: 'watcher' } }).subscribe('presence-lobby');
  await nextEmit(watcher, 'pusher:subscription_succeeded');
  const joined = nextEmit(watcher, 'pusher:member_added');
  const carol = await memberProcess(c, 'presence-lobby', { user_id: 'carol' });
  await joined;

  const left = nextEmit(watcher, 'pusher:member_removed', DEAD_NODE_BOUND_MS + 2_000);
  const killedAt = Date.now();
  await c.stop('SIGKILL');
  carol.kill('SIGKILL');
  assert.equal((await left).id, 'carol');
  assert.ok(Date.now() - killedAt <= DEAD_NODE_BOUND_MS, `removed after ${Date.now() - killedAt} ms`);
  assert.equal((await apiGet(a, '/channels/presence-lobby', { info: 'user_count' })).body.user_count, 1);
  await finish(a);
});

test('without Redis a node serves its own sockets; cross-node delivery resumes when Redis is back', async () => {
  const [a, b] = [await startNode(), await startNode()];
  const onA = client(a).subscribe('news');
  const onB = client(b).subscribe('news');
  await Promise.all([nextEmit(onA, 'pusher:subscription_succeeded'), nextEmit(onB, 'pusher:subscription_succeeded')]);

  await redis.stop();
  await a.waitForEvent({ type: 'scaling_disconnected' });
  const local = nextEmit(onA, 'local-news');
  await a.publish(['news'], 'local-news', { n: 1 });
  assert.deepEqual(await local, { n: 1 });
  const up = await (await fetch(`http://127.0.0.1:${a.port}/up`)).json();
  assert.equal(up.health, 'OK');
  assert.equal(up.scaling.redis, 'disconnected');

  const reconnects = (node) => node.events.filter((e) => e.type === 'scaling_connected').length;
  const [before_a, before_b] = [reconnects(a), reconnects(b)];
  await redis.start();
  await waitUntil(() => reconnects(a) > before_a && reconnects(b) > before_b, 15_000, 'both nodes back on Redis');
  const crossed = nextEmit(onB, 'back');
  await a.publish(['news'], 'back', { n: 2 });
  assert.deepEqual(await crossed, { n: 2 });
  await finish(a, b);
});
