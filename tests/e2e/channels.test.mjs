// Private, presence, encrypted and cache channels, whispers, user sign-in, watchlists and
// terminating users, with the real pusher-js and laravel-echo against tests/e2e/fixtures/channels-server.php.
// Auth is signed locally with the app secret, as a Laravel backend would sign it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import Pusher from 'pusher-js';
import Echo from 'laravel-echo';
import { nextEvent } from './support.mjs';
import {
  KEY,
  startChannelsServer,
  channelAuthorizer,
  connectSigned,
  nextEmit,
  waitUntil,
  connected,
  within,
} from './channels-support.mjs';

/** A laravel-echo instance configured the way a Laravel app configures it for Reverb. */
function echoFor(port, user) {
  const authorize = channelAuthorizer({ user });
  return new Echo({
    broadcaster: 'pusher',
    key: KEY,
    Pusher,
    wsHost: '127.0.0.1',
    wsPort: port,
    forceTLS: false,
    enabledTransports: ['ws'],
    cluster: 'local',
    // Echo's documented custom authorizer hook, signing locally instead of POSTing to
    // /broadcasting/auth.
    authorizer: (channel) => ({
      authorize: (socketId, callback) => authorize({ socketId, channelName: channel.name }, callback),
    }),
  });
}

/** Resolves when an Echo channel's subscription succeeded, or rejects after `ms`. */
function echoSubscribed(echoChannel, ms = 5_000) {
  return nextEvent(echoChannel.subscription, 'pusher:subscription_succeeded', ms);
}

/** Resolves with the next value pushed into `list` after `from` entries, within `ms`. */
async function nextPushed(list, from, ms = 5_000, what = 'value') {
  await waitUntil(() => list.length > from, ms, what);
  return list[from];
}

test('a private channel event reaches an authorized client; a forged signature gets 4009 and the socket stays', async () => {
  const server = await startChannelsServer();
  const good = connectSigned(server.port);
  const forger = connectSigned(server.port, { secret: 'not-the-secret' });
  try {
    const orders = good.subscribe('private-orders');
    const order = await nextEvent(orders, 'order.created');
    assert.equal(orders.subscribed, true);
    assert.deepEqual(order, { id: 42, subscriber: good.connection.socket_id });

    await connected(forger);
    const forgerId = forger.connection.socket_id;
    const errors = [];
    forger.connection.bind('error', (error) => errors.push(error));
    const states = [];
    forger.connection.bind('state_change', ({ current }) => states.push(current));
    const forged = forger.subscribe('private-orders');
    const forgedEvents = [];
    forged.bind_global((event, data) => forgedEvents.push({ event, data }));

    // pusher-js surfaces the server's {"event":"pusher:error","data":{"code":4009,..}} as a
    // connection error; the channel never reports success.
    const error = await nextEmit(forger.connection, 'error', 5_000, 'pusher:error 4009');
    assert.equal(error.type, 'PusherError');
    assert.equal(error.data.code, 4009);

    // The socket stays open and usable: a public subscription on it succeeds.
    const news = forger.subscribe('news');
    await nextEvent(news, 'pusher:subscription_succeeded');
    await server.waitForEvent({ type: 'subscribed', socket_id: forgerId, channel: 'news' });
    assert.equal(forger.connection.state, 'connected');
    assert.equal(forger.connection.socket_id, forgerId);
    assert.deepEqual(states, []);
    assert.equal(forged.subscribed, false);
    assert.deepEqual(forgedEvents, []);
    assert.equal(errors.length, 1, JSON.stringify(errors));
    assert.ok(!server.events.some((e) => e.type === 'subscribed' && e.socket_id === forgerId
      && e.channel === 'private-orders'), 'the forged subscription must not be joined');
  } finally {
    good.disconnect();
    forger.disconnect();
    assert.equal(await server.stop(), 0);
  }
});

test('presence with laravel-echo: here, one joining per user, leaving only after the last tab', async () => {
  const server = await startChannelsServer();
  const ada = { user_id: 1, user_info: { id: 1, name: 'Ada' } };
  const grace = { user_id: 2, user_info: { id: 2, name: 'Grace' } };
  const echo1 = echoFor(server.port, ada);
  const tabA = echoFor(server.port, grace);
  const tabB = echoFor(server.port, grace);
  const byId = (a, b) => a.id - b.id;
  try {
    const joined = [];
    const left = [];
    const here1 = [];
    const room1 = echo1.join('room')
      .here((users) => here1.push(users))
      .joining((user) => joined.push(user))
      .leaving((user) => left.push(user));
    assert.equal(room1.name, 'presence-room');
    assert.deepEqual(await nextPushed(here1, 0, 5_000, 'here() for user 1'), [ada.user_info]);

    // User 2's first tab: both see each other, and user 1 sees user 2 join.
    const hereA = [];
    tabA.join('room').here((users) => hereA.push(users));
    const usersA = await nextPushed(hereA, 0, 5_000, 'here() for tab A');
    assert.deepEqual(usersA.sort(byId), [ada.user_info, grace.user_info]);
    assert.deepEqual(await nextPushed(joined, 0, 5_000, 'joining() for user 2'), grace.user_info);

    // User 2's second tab: it sees both users, and user 1 sees no second joining.
    const hereB = [];
    tabB.join('room').here((users) => hereB.push(users));
    const usersB = await nextPushed(hereB, 0, 5_000, 'here() for tab B');
    assert.deepEqual(usersB.sort(byId), [ada.user_info, grace.user_info]);
    // A publish after tab B joined is a barrier: a member_added for tab B would have been
    // queued for user 1 before it.
    const pusher1 = echo1.connector.pusher;
    const barrier1 = nextEvent(pusher1.channel('presence-room'), 'barrier');
    await server.publish(['presence-room'], 'barrier', { n: 1 });
    await barrier1;
    assert.equal(joined.length, 1, `joining() fired ${joined.length} times: ${JSON.stringify(joined)}`);
    assert.equal(pusher1.channel('presence-room').members.count, 2);

    // Tab A leaves: user 2 still has tab B, so nobody leaves.
    const tabAId = tabA.socketId();
    tabA.disconnect();
    await server.waitForEvent({ type: 'unsubscribed', socket_id: tabAId, channel: 'presence-room' });
    const barrier2 = nextEvent(pusher1.channel('presence-room'), 'barrier');
    await server.publish(['presence-room'], 'barrier', { n: 2 });
    await barrier2;
    assert.deepEqual(left, [], 'leaving() must wait for the last tab of user 2');
    assert.deepEqual(await server.command({ users: 'presence-room' }).then((ids) => ids.sort()), [1, 2]);

    // Tab B leaves: now user 2 is gone.
    tabB.disconnect();
    assert.deepEqual(await nextPushed(left, 0, 5_000, 'leaving() for user 2'), grace.user_info);
    assert.equal(pusher1.channel('presence-room').members.count, 1);
    assert.deepEqual(await server.command({ users: 'presence-room' }), [1]);
    assert.equal(joined.length, 1);
  } finally {
    echo1.disconnect();
    tabA.disconnect();
    tabB.disconnect();
    assert.equal(await server.stop(), 0);
  }
});

test('whispers with laravel-echo reach the other member, never the sender', async () => {
  const server = await startChannelsServer();
  const echo1 = echoFor(server.port);
  const echo2 = echoFor(server.port);
  try {
    const got1 = [];
    const got2 = [];
    const chat1 = echo1.private('chat').listenForWhisper('typing', (data) => got1.push(data));
    const chat2 = echo2.private('chat').listenForWhisper('typing', (data) => got2.push(data));
    await Promise.all([echoSubscribed(chat1), echoSubscribed(chat2)]);

    chat1.whisper('typing', { from: 1, name: 'Ada' });
    assert.deepEqual(await nextPushed(got2, 0, 5_000, 'whisper at client 2'), { from: 1, name: 'Ada' });

    // Client 2 answers only after it got client 1's whisper, so anything the server relayed
    // back to client 1 would be queued before this answer.
    chat2.whisper('typing', { from: 2, name: 'Grace' });
    assert.deepEqual(await nextPushed(got1, 0, 5_000, 'whisper at client 1'), { from: 2, name: 'Grace' });
    assert.deepEqual(got1, [{ from: 2, name: 'Grace' }], 'the sender must not get its own whisper');
    assert.deepEqual(got2, [{ from: 1, name: 'Ada' }], 'the sender must not get its own whisper');
  } finally {
    echo1.disconnect();
    echo2.disconnect();
    assert.equal(await server.stop(), 0);
  }
});

test('an encrypted private channel: pusher-js subscribes with a shared secret and decrypts events', async () => {
  const server = await startChannelsServer();
  const sharedSecrets = { 'private-encrypted-vault': randomBytes(32).toString('base64') };
  const pusher = connectSigned(server.port, { sharedSecrets });
  try {
    const vault = pusher.subscribe('private-encrypted-vault');
    await nextEvent(vault, 'pusher:subscription_succeeded');
    assert.equal(vault.subscribed, true);

    let nacl;
    try {
      nacl = (await import('tweetnacl')).default;
    } catch {
      return; // no tweetnacl to encrypt with: the subscription is what could be checked
    }
    const key = Buffer.from(sharedSecrets['private-encrypted-vault'], 'base64');
    const nonce = randomBytes(nacl.secretbox.nonceLength);
    const plaintext = Buffer.from(JSON.stringify({ pin: '1234', note: 'sécret' }));
    const ciphertext = nacl.secretbox(new Uint8Array(plaintext), new Uint8Array(nonce), new Uint8Array(key));
    const secret = nextEvent(vault, 'vault.opened');
    await server.publish(['private-encrypted-vault'], 'vault.opened', {
      ciphertext: Buffer.from(ciphertext).toString('base64'),
      nonce: nonce.toString('base64'),
    });
    assert.deepEqual(await secret, { pin: '1234', note: 'sécret' });
  } finally {
    pusher.disconnect();
    assert.equal(await server.stop(), 0);
  }
});

test('a cache channel gives a new subscriber the last event at once, or pusher:cache_miss', async () => {
  const server = await startChannelsServer();
  const pusher = connectSigned(server.port);
  try {
    // Published before anybody subscribes: only the last one is kept.
    await server.publish(['cache-prices'], 'price.updated', { price: 100 });
    await server.publish(['cache-prices'], 'price.updated', { price: 101 });

    const prices = pusher.subscribe('cache-prices');
    const seen = [];
    prices.bind_global((event, data) => seen.push({ event, data }));
    await waitUntil(() => seen.some((e) => e.event === 'price.updated'), 5_000, 'the cached price.updated');
    assert.deepEqual(seen.map((e) => e.event), ['pusher:subscription_succeeded', 'price.updated']);
    assert.deepEqual(seen[1].data, { price: 101 });

    const empty = pusher.subscribe('cache-empty');
    const emptySeen = [];
    empty.bind_global((event) => emptySeen.push(event));
    await nextEvent(empty, 'pusher:cache_miss');
    assert.deepEqual(emptySeen, ['pusher:subscription_succeeded', 'pusher:cache_miss']);

    // A live publish still reaches the subscriber, and becomes the new cached event.
    const live = nextEvent(prices, 'price.updated');
    await server.publish(['cache-prices'], 'price.updated', { price: 102 });
    assert.deepEqual(await live, { price: 102 });
    const late = connectSigned(server.port);
    try {
      assert.deepEqual(await nextEvent(late.subscribe('cache-prices'), 'price.updated'), { price: 102 });
    } finally {
      late.disconnect();
    }
  } finally {
    pusher.disconnect();
    assert.equal(await server.stop(), 0);
  }
});

test('pusher.signin(): events published to #server-to-user-<id> reach pusher.user', async () => {
  const server = await startChannelsServer();
  const pusher = connectSigned(server.port, { userData: { id: 'u1', user_info: { name: 'Ada' } } });
  try {
    const notices = [];
    pusher.user.bind('notice', (data) => notices.push(data));
    pusher.signin();
    await connected(pusher);
    // pusher-js subscribes to #server-to-user-u1 once the sign-in succeeded.
    await server.waitForEvent({ type: 'subscribed', socket_id: pusher.connection.socket_id, channel: '#server-to-user-u1' });
    assert.deepEqual(pusher.user.user_data, { id: 'u1', user_info: { name: 'Ada' } });
    await waitUntil(() => pusher.user.serverToUserChannel?.subscribed === true, 5_000, 'server-to-user subscription');

    await server.publish(['#server-to-user-u1'], 'notice', { text: 'hello u1' });
    assert.deepEqual(await nextPushed(notices, 0, 5_000, 'notice'), { text: 'hello u1' });
  } finally {
    pusher.disconnect();
    assert.equal(await server.stop(), 0);
  }
});

test('pusher.user.watchlist: online when a watched user signs in, offline when they leave', async () => {
  const server = await startChannelsServer();
  const a = connectSigned(server.port, { userData: { id: 'a', watchlist: ['b'] } });
  const b = connectSigned(server.port, { userData: { id: 'b' } });
  try {
    const online = [];
    const offline = [];
    a.user.watchlist.bind('online', (event) => online.push(event));
    a.user.watchlist.bind('offline', (event) => offline.push(event));
    a.signin();
    await waitUntil(() => a.user.user_data?.id === 'a', 5_000, 'user a signed in');
    assert.deepEqual(online, [], 'b is not online yet');

    b.signin();
    const cameOnline = await nextPushed(online, 0, 5_000, 'watchlist online for b');
    assert.deepEqual(cameOnline.user_ids, ['b']);

    const offlineBefore = offline.length; // the sign-in may have reported b offline at first
    b.disconnect();
    const wentOffline = await nextPushed(offline, offlineBefore, 5_000, 'watchlist offline for b');
    assert.equal(wentOffline.name, 'offline');
    assert.deepEqual(wentOffline.user_ids, ['b']);
    assert.equal(online.length, 1);
  } finally {
    a.disconnect();
    b.disconnect();
    assert.equal(await server.stop(), 0);
  }
});

/** The faye-websocket socket under a connected pusher-js client (Node build). */
function fayeSocket(pusher) {
  return pusher.connection.connection?.transport?.socket;
}

/**
 * pusher-js in Node, on a close code that means "refused" (4000-4099), calls close() again on
 * its already closed faye-websocket, which arms a 30 s timer that nothing clears. Unref it
 * so `node --test` does not wait for it. This is client-side only; the server closed cleanly.
 */
function releaseCloseTimers(sockets = []) {
  for (const socket of sockets) socket?._closeTimer?.unref?.();
}

test("terminating a user closes that user's sockets and pusher-js does not reconnect", async () => {
  const server = await startChannelsServer();
  const victim = connectSigned(server.port, { userData: { id: 'bad-user' } });
  const victimPresence = connectSigned(server.port, { user: { user_id: 'bad-user', user_info: {} } });
  const bystander = connectSigned(server.port, { userData: { id: 'good-user' } });
  let rawSockets = [];
  try {
    victim.signin();
    bystander.signin();
    await connected(victim);
    await connected(bystander);
    await server.waitForEvent({ type: 'subscribed', socket_id: victim.connection.socket_id, channel: '#server-to-user-bad-user' });
    await server.waitForEvent({ type: 'subscribed', socket_id: bystander.connection.socket_id, channel: '#server-to-user-good-user' });
    // A socket that joined a presence channel as the user (without signing in) goes too.
    await nextEvent(victimPresence.subscribe('presence-lobby'), 'pusher:subscription_succeeded');

    const victimErrors = [];
    victim.connection.bind('error', (error) => victimErrors.push(error));
    const victimClosed = new Promise((resolve) => victim.connection.bind('state_change', ({ current }) => {
      if (current !== 'connected') resolve(current);
    }));
    const presenceClosed = new Promise((resolve) => victimPresence.connection.bind('state_change', ({ current }) => {
      if (current !== 'connected') resolve(current);
    }));
    const victimId = victim.connection.socket_id;
    rawSockets = [victim, victimPresence].map(fayeSocket);

    assert.equal(await server.terminate('bad-user'), 2);
    assert.equal(await within(victimClosed, 5_000, 'the signed-in socket closing'), 'disconnected');
    assert.equal(await within(presenceClosed, 5_000, 'the presence socket closing'), 'disconnected');
    await server.waitForEvent({ type: 'connection_closed', socket_id: victimId });
    assert.ok(victimErrors.some((e) => e.type === 'PusherError' && e.data?.code === 4009),
      `expected a 4009 error, got ${JSON.stringify(victimErrors)}`);

    // The other user keeps its socket and still gets its events.
    assert.equal(bystander.connection.state, 'connected');
    const notice = nextEmit(bystander.user, 'notice');
    await server.publish(['#server-to-user-good-user'], 'notice', { ok: true });
    assert.deepEqual(await notice, { ok: true });
    assert.equal(victim.connection.state, 'disconnected', 'pusher-js must not reconnect after 4009');
  } finally {
    victim.disconnect();
    victimPresence.disconnect();
    bystander.disconnect();
    releaseCloseTimers(rawSockets);
    assert.equal(await server.stop(), 0);
  }
});
