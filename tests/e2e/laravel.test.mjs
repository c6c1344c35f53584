// The Laravel package (php/) in the Laravel 8.83 fixture app (tests/laravel-app) and in the
// Laravel 12.67 and 11.33 apps (tests/laravel-app-modern on a skeleton): `php artisan
// reverb:start`, events broadcast by the app from other processes, laravel-echo authorized by
// the app's real /broadcasting/auth, reverb:restart and SIGTERM, reverb:install on a fresh app,
// and two reverb:start nodes scaled over Redis.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import {
  appDir,
  root,
  startReverb,
  startStack,
  subscribed,
  nextPushed,
  artisan,
  readEnv,
  copyApp,
  editFile,
  login,
  postAs,
  echoFor,
  pusherFor,
  waitUntil,
  within,
} from './laravel-support.mjs';
import { ACL_USER, makeCertificates, startSecuredRedis } from './redis-support.mjs';
import { LARAVEL, laravelApp } from './laravel-apps-support.mjs';

const room = () => `t${randomBytes(4).toString('hex')}`;
const byName = (a, b) => a.name.localeCompare(b.name);

/** A connected pusher-js client that records close codes (via its errors) and state changes. */
async function watchedClient(port, key) {
  const pusher = pusherFor(port, key);
  const seen = { errors: [], states: [] };
  pusher.connection.bind('error', (error) => seen.errors.push(error?.data?.code ?? error?.error?.data?.code));
  pusher.connection.bind('state_change', ({ current }) => seen.states.push(current));
  const channel = pusher.subscribe('news');
  await within(new Promise((resolve) => channel.bind('pusher:subscription_succeeded', resolve)), 10_000, 'subscription to news');
  return { pusher, seen };
}

/** Every file of an app except storage/, bootstrap/cache, vendor/ and node_modules/, path => contents. */
function snapshot(dir) {
  const files = {};
  const walk = (sub) => {
    for (const entry of readdirSync(path.join(dir, sub))) {
      const relative = path.join(sub, entry);
      if (/^(storage|bootstrap\/cache|vendor|node_modules)(\/|$)/.test(relative)) continue;
      if (statSync(path.join(dir, relative)).isDirectory()) walk(relative);
      else files[relative] = readFileSync(path.join(dir, relative), 'utf8');
    }
  };
  walk('');
  return files;
}

/**
 * The apps the suite runs in: the Laravel 8.83 fixture app itself, and copies of the built
 * Laravel 12 and 11 apps (`dir` is set before their tests run).
 */
const targets = [
  { name: 'Laravel 8.83', legacy: true, dir: appDir },
  ...Object.entries(LARAVEL).map(([version, spec]) => ({ name: spec.name, version, legacy: false, dir: null })),
];

for (const target of targets) {
  describe(target.name, () => {
    let copy;
    let KEY;
    before(async () => {
      if (!target.legacy) {
        copy = copyApp(await laravelApp(target.version, 'fixture'));
        target.dir = copy.dir;
      }
      KEY = readEnv(target.dir).REVERB_APP_KEY;
    });
    after(() => copy?.remove());
    const options = (extra = {}) => ({ cwd: target.dir, ...extra });
    // Laravel 11 renamed BROADCAST_DRIVER to BROADCAST_CONNECTION.
    const driverKey = target.legacy ? 'BROADCAST_DRIVER' : 'BROADCAST_CONNECTION';

    test('an event dispatched by `artisan app:post-message` in another process reaches laravel-echo', async () => {
      const stack = await startStack(options());
      const name = room();
      let echo;
      try {
        const alice = await login(stack.web.url, 'Alice');
        echo = echoFor(alice, stack.reverb.port, KEY);
        const messages = [];
        const here = [];
        const channel = echo.join(`room.${name}`)
          .here((users) => here.push(users))
          .listen('MessagePosted', (message) => messages.push(message));
        assert.deepEqual(await nextPushed(here, 0, 'here()'), [{ id: alice.user.id, name: 'Alice' }]);
        assert.equal(channel.subscription.name, `presence-room.${name}`);

        const posted = await artisan(['app:post-message', 'hello', `--room=${name}`, '--as=Cron'], options({
          env: { REVERB_PORT: String(stack.reverb.port) },
        }));
        assert.equal(posted.code, 0, posted.stdout + posted.stderr);

        const message = await nextPushed(messages, 0, 'MessagePosted');
        assert.equal(message.text, 'hello');
        assert.equal(message.room, name);
        assert.deepEqual(message.author, { id: 0, name: 'Cron' });
        assert.match(message.id, /^[0-9a-f-]{36}$/);
      } finally {
        echo?.disconnect();
        await stack.stop();
      }
    });

    test('presence through the app\'s /broadcasting/auth: here, joining, whispers, toOthers, leaving', async () => {
      const stack = await startStack(options());
      const name = room();
      const echos = [];
      try {
        const alice = await login(stack.web.url, 'Alice');
        const bob = await login(stack.web.url, 'Bob');
        assert.notEqual(alice.user.id, bob.user.id);
        const aliceEcho = echoFor(alice, stack.reverb.port, KEY);
        const bobEcho = echoFor(bob, stack.reverb.port, KEY);
        echos.push(aliceEcho, bobEcho);

        const aliceSaw = { here: [], joining: [], leaving: [], whispers: [], messages: [] };
        const aliceRoom = aliceEcho.join(`room.${name}`)
          .here((users) => aliceSaw.here.push(users))
          .joining((user) => aliceSaw.joining.push(user))
          .leaving((user) => aliceSaw.leaving.push(user))
          .listenForWhisper('typing', (data) => aliceSaw.whispers.push(data))
          .listen('MessagePosted', (message) => aliceSaw.messages.push(message));
        assert.deepEqual(await nextPushed(aliceSaw.here, 0, 'Alice\'s here()'), [alice.user]);

        const bobSaw = { here: [], messages: [] };
        const bobRoom = bobEcho.join(`room.${name}`)
          .here((users) => bobSaw.here.push(users))
          .listen('MessagePosted', (message) => bobSaw.messages.push(message));
        const bobHere = await nextPushed(bobSaw.here, 0, 'Bob\'s here()');
        assert.deepEqual([...bobHere].sort(byName), [alice.user, bob.user]);
        assert.deepEqual(await nextPushed(aliceSaw.joining, 0, 'Alice sees Bob joining'), bob.user);

        // A whisper (client event) from Bob reaches Alice through the server.
        bobRoom.whisper('typing', { id: bob.user.id, name: 'Bob' });
        assert.deepEqual(await nextPushed(aliceSaw.whispers, 0, 'the typing whisper'), { id: bob.user.id, name: 'Bob' });

        // POST /messages broadcasts toOthers(): Bob gets it, Alice (whose socket sent it) does not.
        const sent = await postAs(alice, '/messages', {
          json: { room: name, text: 'hi Bob' },
          headers: { 'X-Socket-ID': aliceEcho.socketId() },
        });
        assert.equal(sent.status, 201, JSON.stringify(sent.body));
        const received = await nextPushed(bobSaw.messages, 0, 'Bob receives Alice\'s message');
        assert.deepEqual(received, sent.body.message);
        assert.deepEqual(received.author, alice.user);
        await new Promise((resolve) => setTimeout(resolve, 300));
        assert.deepEqual(aliceSaw.messages, []);

        // A private channel authorized by the app works for a signed-in user.
        const privateChannel = bobEcho.private(`chat.${name}`);
        await subscribed(privateChannel);

        bobEcho.leave(`room.${name}`);
        assert.deepEqual(await nextPushed(aliceSaw.leaving, 0, 'Alice sees Bob leaving'), bob.user);
        assert.equal(aliceRoom.subscription.members.count, 1);
      } finally {
        echos.forEach((echo) => echo.disconnect());
        await stack.stop();
      }
    });

    test('two `reverb:start` nodes scaled over a TLS Redis with an ACL user: Echo users on each see each other and the app\'s events', async () => {
      const certificates = makeCertificates();
      const redis = await startSecuredRedis(certificates);
      const env = {
        REVERB_SCALING_ENABLED: 'true',
        REDIS_URL: redis.url(),
        REDIS_TLS_CAFILE: certificates.ca,
        REVERB_SCALING_PREFIX: `e2e_${room()}_`,
      };
      const stack = await startStack(options({ env }));
      const nodeB = await startReverb(options({ env }));
      const name = room();
      const echos = [];
      try {
        for (const node of [stack.reverb, nodeB]) {
          await waitUntil(() => /Connected to Redis/.test(node.output()), 10_000, 'the node reaching Redis');
          assert.match(node.output(), new RegExp(`Scaling over Redis rediss://${ACL_USER.name}@127\\.0\\.0\\.1:${redis.port}/0`));
          assert.doesNotMatch(node.output(), new RegExp(ACL_USER.password));
        }
        const alice = await login(stack.web.url, 'Alice');
        const bob = await login(stack.web.url, 'Bob');
        const aliceEcho = echoFor(alice, stack.reverb.port, KEY);
        const bobEcho = echoFor(bob, nodeB.port, KEY);
        echos.push(aliceEcho, bobEcho);

        const aliceSaw = { here: [], joining: [], messages: [] };
        aliceEcho.join(`room.${name}`)
          .here((users) => aliceSaw.here.push(users))
          .joining((user) => aliceSaw.joining.push(user))
          .listen('MessagePosted', (message) => aliceSaw.messages.push(message));
        assert.deepEqual(await nextPushed(aliceSaw.here, 0, 'Alice\'s here()'), [alice.user]);
        const bobSaw = { here: [], messages: [] };
        bobEcho.join(`room.${name}`)
          .here((users) => bobSaw.here.push(users))
          .listen('MessagePosted', (message) => bobSaw.messages.push(message));
        const bobHere = await nextPushed(bobSaw.here, 0, 'Bob\'s here() on node B');
        assert.deepEqual([...bobHere].sort(byName), [alice.user, bob.user]);
        assert.deepEqual(await nextPushed(aliceSaw.joining, 0, 'Alice sees Bob joining on node B'), bob.user);

        // The app publishes to node A; Bob, on node B, gets the event.
        const posted = await artisan(['app:post-message', 'across', `--room=${name}`, '--as=Cron'], options({
          env: { ...env, REVERB_PORT: String(stack.reverb.port) },
        }));
        assert.equal(posted.code, 0, posted.stdout + posted.stderr);
        assert.equal((await nextPushed(bobSaw.messages, 0, 'Bob receives the message')).text, 'across');
        assert.equal((await nextPushed(aliceSaw.messages, 0, 'Alice receives the message')).text, 'across');
      } finally {
        echos.forEach((echo) => echo.disconnect());
        await Promise.all([stack.stop(), nodeB.stop()]);
        await redis.stop();
        certificates.remove();
      }
    });

    test('`reverb:start` refuses a Redis password Redis refuses, naming the key and where it came from', async () => {
      const certificates = makeCertificates();
      const redis = await startSecuredRedis(certificates);
      try {
        const started = await artisan(['reverb:start', '--host=127.0.0.1', '--port=0'], options({
          env: { REVERB_SCALING_ENABLED: 'true', REDIS_URL: redis.url('wrong-password'), REDIS_TLS_CAFILE: certificates.ca },
        }));
        const output = started.stdout + started.stderr;
        assert.notEqual(started.code, 0, output);
        assert.match(output, /servers\.reverb\.scaling\.server\.password/);
        assert.match(output, /The Redis settings come from servers\.reverb\.scaling\.server/);
        assert.doesNotMatch(output, /wrong-password/);
      } finally {
        await redis.stop();
        certificates.remove();
      }
    });

    test('/broadcasting/auth refuses guests and forged sessions; Echo reports the error', async () => {
      const stack = await startStack(options());
      let echo;
      try {
        const guest = { url: stack.web.url, cookie: '', csrf: '' };
        // Without a session the CSRF check already refuses (419); with one but signed out, 403.
        const refused = await postAs(guest, '/broadcasting/auth', { form: { socket_id: '1.2', channel_name: 'presence-room.x' } });
        assert.ok([403, 419].includes(refused.status), `status ${refused.status}`);

        const alice = await login(stack.web.url, 'Alice');
        const forged = await postAs({ ...alice, cookie: 'reverb_rs_demo_session=forged' }, '/broadcasting/auth', {
          form: { socket_id: '1.2', channel_name: 'presence-room.x' },
        });
        assert.ok([403, 419].includes(forged.status), `status ${forged.status}`);

        const ok = await postAs(alice, '/broadcasting/auth', { form: { socket_id: '1.2', channel_name: 'presence-room.x' } });
        assert.equal(ok.status, 200);
        assert.match(ok.body.auth, new RegExp(`^${KEY}:[0-9a-f]{64}$`));
        assert.deepEqual(JSON.parse(ok.body.channel_data), { user_id: String(alice.user.id), user_info: alice.user });

        echo = echoFor({ ...alice, cookie: '' }, stack.reverb.port, KEY);
        await assert.rejects(subscribed(echo.join('room.x')), /subscription to presence-room\.x failed/);
      } finally {
        echo?.disconnect();
        await stack.stop();
      }
    });

    // The server reads the restart signal every 5 s, then stops within its 3 s grace (a drain
    // while the client is still connected, then 4200).
    test('`artisan reverb:restart` stops the server within 9 s; clients get 4200 and reconnect', async () => {
      // A copy of the app: the restart signal lives in the app's cache, shared by every server of it.
      const app = copyApp(target.dir);
      const server = await startReverb({ cwd: app.dir });
      let client;
      try {
        client = await watchedClient(server.port, KEY);
        const started = Date.now();
        const restart = await artisan(['reverb:restart'], { cwd: app.dir });
        assert.equal(restart.code, 0, restart.stdout + restart.stderr);

        const exit = await within(server.exited, 9_000, 'reverb:start exiting after reverb:restart');
        const elapsed = Date.now() - started;
        assert.deepEqual(exit, { code: 0, signal: null }, server.output());
        assert.ok(elapsed < 9_000, `stopped after ${elapsed} ms`);
        assert.match(server.output(), /Restart signal received/);

        await waitUntil(() => client.seen.errors.includes(4200), 3_000, 'close code 4200 at the client');
        await waitUntil(() => client.seen.states.some((s) => ['connecting', 'unavailable'].includes(s)), 3_000,
          'pusher-js reconnecting');
      } finally {
        client?.pusher.disconnect();
        await server.stop();
        app.remove();
      }
    });

    test('SIGTERM stops `reverb:start` within its 3 s grace; clients get 4200 and reconnect', async () => {
      const server = await startReverb(options());
      let client;
      try {
        client = await watchedClient(server.port, KEY);
        const started = Date.now();
        const exit = await server.stop('SIGTERM', 6_000);
        const elapsed = Date.now() - started;
        assert.deepEqual(exit, { code: 0, signal: null }, server.output());
        assert.ok(elapsed < 6_000, `stopped after ${elapsed} ms`);
        await waitUntil(() => client.seen.errors.includes(4200), 3_000, 'close code 4200 at the client');
        await waitUntil(() => client.seen.states.some((s) => ['connecting', 'unavailable'].includes(s)), 3_000,
          'pusher-js reconnecting');
      } finally {
        client?.pusher.disconnect();
        await server.stop();
      }
    });

    test('`reverb:install` sets up a fresh app that then works; a second run changes nothing', async () => {
      const app = copyApp(target.dir);
      let stack;
      let echo;
      try {
        // An app with broadcasting but without Reverb: no REVERB_* variables, broadcasting to the
        // log, no reverb connection, no config/reverb.php; on Laravel 8-10,
        // BroadcastServiceProvider commented out.
        editFile(app.dir, '.env', (env) => env
          .split('\n').filter((line) => !/^(VITE_)?REVERB_/.test(line)).join('\n')
          .replace(new RegExp(`^${driverKey}=.*$`, 'm'), `${driverKey}=log`));
        editFile(app.dir, 'config/broadcasting.php', (config) => {
          const stripped = config.replace(/\n {8}'reverb' => \[\n[\s\S]*?\n {8}\],\n/, '\n');
          assert.notEqual(stripped, config, 'the reverb connection block was found');
          return stripped;
        });
        if (target.legacy) {
          editFile(app.dir, 'config/app.php', (config) => config.replace(
            /^( *)App\\Providers\\BroadcastServiceProvider::class,/m, '$1// App\\Providers\\BroadcastServiceProvider::class,'));
        }
        rmSync(path.join(app.dir, 'config/reverb.php'), { force: true });
        const fresh = snapshot(app.dir);
        assert.doesNotMatch(fresh['.env'], /REVERB_/);
        assert.doesNotMatch(fresh['config/broadcasting.php'], /'reverb'/);

        const install = await artisan(['reverb:install', '--no-interaction'], { cwd: app.dir });
        assert.equal(install.code, 0, install.stdout + install.stderr);
        const installed = snapshot(app.dir);

        // .env: credentials, where clients connect, and the reverb driver.
        const env = readEnv(app.dir);
        assert.match(env.REVERB_APP_ID ?? '', /^\S+$/);
        assert.match(env.REVERB_APP_KEY ?? '', /^[a-z0-9]{16,}$/);
        assert.match(env.REVERB_APP_SECRET ?? '', /^[a-z0-9]{16,}$/);
        assert.notEqual(env.REVERB_APP_KEY, env.REVERB_APP_SECRET);
        assert.equal(env.REVERB_PORT, '8080');
        assert.equal(env.REVERB_SCHEME, 'http');
        assert.ok(env.REVERB_HOST, 'REVERB_HOST is set');
        assert.equal(env[driverKey], 'reverb');
        assert.equal(env.APP_KEY, readEnv(target.dir).APP_KEY, 'other variables are kept');
        // config: the package's reverb.php, the reverb connection, the provider enabled.
        assert.equal(installed['config/reverb.php'], readFileSync(path.join(root, 'php/config/reverb.php'), 'utf8'));
        assert.match(installed['config/broadcasting.php'], /'reverb' => \[\s*'driver' => 'reverb',/);
        if (target.legacy) {
          assert.match(installed['config/app.php'], /^ *App\\Providers\\BroadcastServiceProvider::class,/m);
        }
        const changed = Object.keys(installed).filter((file) => installed[file] !== fresh[file]).sort();
        assert.deepEqual(changed, target.legacy
          ? ['.env', 'config/app.php', 'config/broadcasting.php', 'config/reverb.php']
          : ['.env', 'config/broadcasting.php', 'config/reverb.php']);

        // Running it again changes nothing.
        const again = await artisan(['reverb:install', '--no-interaction'], { cwd: app.dir });
        assert.equal(again.code, 0, again.stdout + again.stderr);
        assert.deepEqual(snapshot(app.dir), installed);

        // The installed app works: its server, its auth and its broadcaster. REVERB_HOST from the
        // install is kept; only the port is moved off 8080.
        stack = await startStack({ cwd: app.dir });
        const env2 = { REVERB_PORT: String(stack.reverb.port) };
        const ada = await login(stack.web.url, 'Ada');
        echo = echoFor(ada, stack.reverb.port, env.REVERB_APP_KEY);
        const messages = [];
        const here = [];
        echo.join('room.1').here((users) => here.push(users)).listen('MessagePosted', (m) => messages.push(m));
        assert.deepEqual(await nextPushed(here, 0, 'here() in the installed app'), [ada.user]);
        const posted = await artisan(['app:post-message', 'installed', '--room=1'], { cwd: app.dir, env: env2 });
        assert.equal(posted.code, 0, posted.stdout + posted.stderr);
        assert.equal((await nextPushed(messages, 0, 'MessagePosted in the installed app')).text, 'installed');
      } finally {
        echo?.disconnect();
        await stack?.stop();
        app.remove();
      }
    });

    // routes/channels.php builds the broadcaster while the app boots, so a missing extension or
    // missing credentials must only fail where they are needed, not every command and request.

    test('without the extension, artisan boots and reverb:start says the extension is missing', async () => {
      const list = await artisan(['list'], options({ withExtension: false }));
      assert.equal(list.code, 0, list.stdout + list.stderr);
      assert.match(list.stdout, /reverb:start/);
      const start = await artisan(['reverb:start', '--port=0'], options({ withExtension: false }));
      assert.equal(start.code, 1);
      assert.match(start.stdout + start.stderr, /reverb_rs PHP extension is not loaded/);
    });

    test('`reverb:install` works in an app already set to the reverb driver but without REVERB_* keys', async () => {
      const app = copyApp(target.dir);
      try {
        editFile(app.dir, '.env', (env) => env.split('\n').filter((line) => !line.startsWith('REVERB_')).join('\n'));
        const install = await artisan(['reverb:install', '--no-interaction'], { cwd: app.dir });
        assert.equal(install.code, 0, install.stdout + install.stderr);
        assert.match(readEnv(app.dir).REVERB_APP_KEY ?? '', /^[a-z0-9]{16,}$/);
      } finally {
        app.remove();
      }
    });

    test('with --hostname and no certificate configured, reverb:start serves TLS with the Valet certificate', async () => {
      const home = mkdtempSync(path.join(tmpdir(), 'reverb-rs-home-'));
      const certificates = path.join(home, '.config/valet/Certificates');
      mkdirSync(certificates, { recursive: true });
      execFileSync('openssl', [
        'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=demo.test',
        '-keyout', path.join(certificates, 'demo.test.key'), '-out', path.join(certificates, 'demo.test.crt'),
      ], { stdio: 'ignore' });
      let reverb;
      try {
        reverb = await startReverb(options({ env: { HOME: home }, args: ['--hostname=demo.test'] }));
        // The banner's lines after the first may come in later writes.
        await waitUntil(() => /Clients connect to/.test(reverb.output()), 5_000, 'the whole banner');
        assert.match(reverb.output(), /Starting secure server/);
        assert.match(reverb.output(), /Certificate: .*\.config\/valet\/Certificates\/demo\.test\.crt/);
        assert.match(reverb.output(), /wss:\/\/demo\.test:\d+\/app\/\{key\}/);
      } finally {
        await reverb?.stop();
        rmSync(home, { recursive: true, force: true });
      }
    });
  });
}
