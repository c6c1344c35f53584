// What Laravel 12.67 and 11.33 apps broadcast, end to end with laravel-echo (the app in
// tests/laravel-app-modern): a ShouldBroadcast event through the database queue and a real
// `queue:work`, model broadcasting, a broadcast notification, user authentication through
// /broadcasting/user-auth, Laravel's own `pusher` driver pointed at reverb-rs, webhooks to the
// app's own endpoint (checked with the Pusher PHP SDK) and as Laravel events, and `artisan
// reload`. ShouldBroadcastNow, toOthers() and presence run in laravel.test.mjs on every app.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  artisan,
  copyApp,
  echoFor,
  login,
  nextPushed,
  postAs,
  readEnv,
  startArtisan,
  startReverb,
  startStack,
  startWeb,
  subscribed,
  waitUntil,
  within,
} from './laravel-support.mjs';
import { LARAVEL, laravelApp } from './laravel-apps-support.mjs';

const room = () => `t${randomBytes(4).toString('hex')}`;

for (const [version, spec] of Object.entries(LARAVEL)) {
  describe(spec.name, () => {
    let app;
    let env;
    before(async () => {
      app = copyApp(await laravelApp(version, 'fixture'));
      env = readEnv(app.dir);
    });
    after(() => app?.remove());

    /** The stack, Alice signed in, and her Echo subscribed to her private user channel. */
    async function aliceOnHerChannel(stackEnv = {}) {
      const stack = await startStack({ cwd: app.dir, env: stackEnv });
      const alice = await login(stack.web.url, 'Alice');
      const echo = echoFor(alice, stack.reverb.port, env.REVERB_APP_KEY);
      const seen = { status: [], created: [], updated: [], notifications: [] };
      const channel = echo.private(`App.Models.User.${alice.user.id}`)
        .listen('StatusUpdated', (event) => seen.status.push(event))
        .listen('.PostCreated', (event) => seen.created.push(event))
        .listen('.PostUpdated', (event) => seen.updated.push(event))
        .notification((notification) => seen.notifications.push(notification));
      await subscribed(channel);
      return { stack, alice, echo, seen };
    }

    /** `php artisan queue:work` publishing to the stack's server; stop() ends it. */
    function startWorker(stack) {
      return startArtisan(['queue:work', '--sleep=1', '--tries=1'], {
        cwd: app.dir,
        env: { REVERB_PORT: String(stack.reverb.port) },
      });
    }

    test('a ShouldBroadcast event waits in the database queue until `queue:work` sends it to Echo', async () => {
      const { stack, alice, echo, seen } = await aliceOnHerChannel();
      let worker;
      try {
        const sent = await postAs(alice, '/status', { json: { text: 'queued hello' } });
        assert.equal(sent.status, 202, JSON.stringify(sent.body));
        assert.ok(sent.body.queued >= 1, `jobs waiting: ${sent.body.queued}`);

        worker = startWorker(stack);
        const status = await nextPushed(seen.status, 0, 'StatusUpdated from the worker');
        assert.deepEqual(status, { text: 'queued hello', user: alice.user });
        await waitUntil(() => /App\\Events\\StatusUpdated .*DONE/.test(worker.output()), 10_000, 'the worker reporting the job');
      } finally {
        echo.disconnect();
        await Promise.all([worker?.stop(), stack.stop()]);
      }
    });

    test('model broadcasting: a Post\'s PostCreated and PostUpdated reach its author\'s channel', async () => {
      const { stack, alice, echo, seen } = await aliceOnHerChannel();
      const worker = startWorker(stack);
      try {
        const created = await postAs(alice, '/posts', { json: { title: 'First' } });
        assert.equal(created.status, 201, JSON.stringify(created.body));
        const post = created.body.post;
        const createdEvent = await nextPushed(seen.created, 0, 'PostCreated');
        assert.equal(createdEvent.model.id, post.id);
        assert.equal(createdEvent.model.title, 'First');
        assert.equal(createdEvent.model.user_id, alice.user.id);

        const updated = await postAs(alice, `/posts/${post.id}`, { json: { title: 'Second', _method: 'PATCH' } });
        assert.equal(updated.status, 200, JSON.stringify(updated.body));
        assert.equal((await nextPushed(seen.updated, 0, 'PostUpdated')).model.title, 'Second');
      } finally {
        echo.disconnect();
        await Promise.all([worker.stop(), stack.stop()]);
      }
    });

    test('a notification through the broadcast channel reaches Echo\'s notification()', async () => {
      const { stack, alice, echo, seen } = await aliceOnHerChannel();
      const worker = startWorker(stack);
      try {
        const sent = await postAs(alice, '/notifications', { json: { text: 'welcome' } });
        assert.equal(sent.status, 202, JSON.stringify(sent.body));
        const notification = await nextPushed(seen.notifications, 0, 'the Greeting notification');
        assert.equal(notification.type, 'App\\Notifications\\Greeting');
        assert.equal(notification.text, 'welcome');
        assert.equal(notification.to, 'Alice');
        assert.match(notification.id, /^[0-9a-f-]{36}$/);
      } finally {
        echo.disconnect();
        await Promise.all([worker.stop(), stack.stop()]);
      }
    });

    test('pusher-js signin() through the app\'s /broadcasting/user-auth is accepted by the server', async () => {
      const { stack, alice, echo } = await aliceOnHerChannel();
      try {
        const { pusher } = echo.connector;
        pusher.signin();
        // pusher-js subscribes to #server-to-user-<id> once the server accepted the signature.
        await waitUntil(() => pusher.user.serverToUserChannel?.subscribed === true, 10_000, 'the server-to-user channel');
        assert.deepEqual(pusher.user.user_data, { id: String(alice.user.id), user_info: { name: 'Alice' } });

        const guest = await postAs({ url: stack.web.url }, '/broadcasting/user-auth', { form: { socket_id: '1.2' } });
        assert.equal(guest.status, 403);
      } finally {
        echo.disconnect();
        await stack.stop();
      }
    });

    test('Laravel\'s own pusher driver pointed at reverb-rs publishes, queries channels and authorizes', async () => {
      const reverb = await startReverb({ cwd: app.dir });
      // config/broadcasting.php's pusher connection, as an app sets it for a self-hosted server.
      const pusherEnv = {
        BROADCAST_CONNECTION: 'pusher',
        PUSHER_APP_ID: env.REVERB_APP_ID,
        PUSHER_APP_KEY: env.REVERB_APP_KEY,
        PUSHER_APP_SECRET: env.REVERB_APP_SECRET,
        PUSHER_APP_CLUSTER: 'mt1',
        PUSHER_HOST: '127.0.0.1',
        PUSHER_PORT: String(reverb.port),
        PUSHER_SCHEME: 'http',
      };
      let web;
      try {
        web = await startWeb({ cwd: app.dir, reverbPort: reverb.port, env: pusherEnv });
      } catch (error) {
        await reverb.stop();
        throw error;
      }
      const stack = { reverb, web, stop: () => Promise.all([web.stop(), reverb.stop()]) };
      const name = room();
      const echos = [];
      try {
        const alice = await login(stack.web.url, 'Alice');
        const bob = await login(stack.web.url, 'Bob');
        const asPusher = { broadcaster: 'pusher', cluster: 'mt1' };
        const aliceEcho = echoFor(alice, stack.reverb.port, env.REVERB_APP_KEY, asPusher);
        const bobEcho = echoFor(bob, stack.reverb.port, env.REVERB_APP_KEY, asPusher);
        echos.push(aliceEcho, bobEcho);
        const aliceSaw = [];
        const bobSaw = [];
        const aliceRoom = aliceEcho.join(`room.${name}`).listen('MessagePosted', (m) => aliceSaw.push(m));
        const bobRoom = bobEcho.join(`room.${name}`).listen('MessagePosted', (m) => bobSaw.push(m));
        await Promise.all([subscribed(aliceRoom), subscribed(bobRoom)]);
        await subscribed(bobEcho.private(`chat.${name}`));

        // Channel queries through the Pusher SDK.
        const channels = await fetch(`${stack.web.url}/pusher/channels?prefix=presence-`).then((r) => r.json());
        assert.deepEqual(channels.channels[`presence-room.${name}`], { user_count: 2 });
        const channel = await fetch(`${stack.web.url}/pusher/channels/presence-room.${name}`).then((r) => r.json());
        assert.equal(channel.info.occupied, true);
        assert.equal(channel.info.user_count, 2);
        assert.deepEqual(channel.users.map((user) => user.id).sort(), [String(alice.user.id), String(bob.user.id)].sort());

        // Publishing through the SDK, with toOthers(): Bob gets it; then, from artisan, both do.
        const sent = await postAs(alice, '/messages', {
          json: { room: name, text: 'via pusher' },
          headers: { 'X-Socket-ID': aliceEcho.socketId() },
        });
        assert.equal(sent.status, 201, JSON.stringify(sent.body));
        assert.equal((await nextPushed(bobSaw, 0, 'Bob receives the message')).text, 'via pusher');
        const posted = await artisan(['app:post-message', 'to all', `--room=${name}`], { cwd: app.dir, env: pusherEnv });
        assert.equal(posted.code, 0, posted.stdout + posted.stderr);
        assert.equal((await nextPushed(aliceSaw, 0, 'Alice receives the artisan message')).text, 'to all');
        assert.equal((await nextPushed(bobSaw, 1, 'Bob receives the artisan message')).text, 'to all');
        assert.equal(aliceSaw.length, 1, 'Alice did not receive her own toOthers() message');
      } finally {
        echos.forEach((echo) => echo.disconnect());
        await stack.stop();
      }
    });

    test('webhooks reach the app\'s endpoint, pass the Pusher SDK\'s check, and reach its listeners', async () => {
      const web = await startWeb({ cwd: app.dir, reverbPort: 1 });
      let reverb;
      let echo;
      try {
        reverb = await startReverb({
          cwd: app.dir,
          env: { REVERB_WEBHOOK_URL: `${web.url}/pusher/webhooks`, REVERB_WEBHOOK_EVENTS: 'true' },
        });
        const alice = await login(web.url, 'Alice');
        echo = echoFor(alice, reverb.port, env.REVERB_APP_KEY);
        const channel = `presence-room.${room()}`;
        await subscribed(echo.join(channel.slice('presence-'.length)));
        echo.disconnect();

        const userId = String(alice.user.id);
        const expected = [
          { name: 'channel_occupied', channel },
          { name: 'member_added', channel, user_id: userId },
          { name: 'member_removed', channel, user_id: userId },
          { name: 'channel_vacated', channel },
        ];
        const about = (list) => list.filter((event) => event.channel === channel);
        const received = await waitUntil(async () => {
          const events = about(await (await fetch(`${web.url}/pusher/webhooks`)).json());
          return events.length >= expected.length && events;
        }, 15_000, 'the four webhooks at /pusher/webhooks');
        assert.deepEqual(received, expected);

        const heard = await waitUntil(async () => {
          const events = about(await (await fetch(`${web.url}/pusher/webhook-events`)).json());
          return events.length >= expected.length && events;
        }, 10_000, 'the four Laravel events');
        assert.deepEqual(heard.map((event) => event.class), ['ChannelOccupied', 'MemberAdded', 'MemberRemoved', 'ChannelVacated']);
        assert.deepEqual(heard[1], { class: 'MemberAdded', appId: env.REVERB_APP_ID, channel, userId });
        assert.doesNotMatch(reverb.output(), /failing/);
      } finally {
        echo?.disconnect();
        await Promise.all([reverb?.stop(), web.stop()]);
      }
    });

    test('`artisan reload` restarts reverb:start (Laravel 12+)', { skip: version < 12 && 'Laravel 11 has no reload' }, async () => {
      const copy = copyApp(app.dir);
      const server = await startReverb({ cwd: copy.dir });
      try {
        const reload = await artisan(['reload'], { cwd: copy.dir });
        assert.equal(reload.code, 0, reload.stdout + reload.stderr);
        assert.match(reload.stdout, /reverb .*DONE/);
        const exit = await within(server.exited, 10_000, 'reverb:start exiting after reload');
        assert.deepEqual(exit, { code: 0, signal: null }, server.output());
        assert.match(server.output(), /Restart signal received/);
      } finally {
        await server.stop();
        copy.remove();
      }
    });
  });
}
