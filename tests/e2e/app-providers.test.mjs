// The database app provider end to end, on MariaDB: a copy of the fixture app (Laravel 8.83)
// with DB_CONNECTION=mysql on a throwaway mariadbd, the reverb_apps migration published with
// `vendor:publish --tag=reverb-rs-migrations` and run, and `artisan reverb:start` with
// apps.provider = database. Rows are inserted, changed, disabled and deleted while pusher-js
// clients are connected, and `artisan reverb:apps:reload` runs from another process; a faulty
// row and a row the engine refuses are reported while the other apps are served; the reload
// interval; two nodes over Redis (the official Python SDK publishing across them); and on-demand
// lookups.
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  artisan,
  copyApp,
  editFile,
  pusherFor,
  startReverb,
  waitUntil,
  within,
} from './laravel-support.mjs';
import { startMariaDb } from './mariadb-support.mjs';
import { startRedis } from './redis-support.mjs';
import { signedEventsRequest } from './support.mjs';

const DATABASE = 'reverb';

/** The fixture app has no database config: the copy gets a MySQL connection read from .env. */
const DATABASE_CONFIG = `<?php

return [
    'default' => env('DB_CONNECTION', 'mysql'),
    'connections' => [
        'mysql' => [
            'driver' => 'mysql',
            'host' => env('DB_HOST', '127.0.0.1'),
            'port' => env('DB_PORT', '3306'),
            'database' => env('DB_DATABASE', 'reverb'),
            'username' => env('DB_USERNAME', 'root'),
            'password' => env('DB_PASSWORD', ''),
            'charset' => 'utf8mb4',
            'collation' => 'utf8mb4_unicode_ci',
            'prefix' => '',
            'strict' => true,
        ],
    ],
    'migrations' => 'migrations',
];
`;

let mariadb;
let app;
let clients = [];
let servers = [];

/** Runs SQL on the test database. */
const sql = (statement) => mariadb.sql(statement, DATABASE);

/** Inserts an app row: `id`, the key `{id}-key`, the secret `{id}-secret`, and any other columns given. */
function insertApp(id, columns = {}) {
  const row = { id, key: `${id}-key`, secret: `${id}-secret`, ...columns };
  const names = Object.keys(row).map((name) => `\`${name}\``).join(', ');
  const values = Object.values(row).map((value) => (typeof value === 'number' ? value : `'${String(value).replaceAll("'", "''")}'`)).join(', ');
  return sql(`INSERT INTO reverb_apps (${names}) VALUES (${values})`);
}

/**
 * `artisan reverb:start` on the copy, apps from the database (`env` overrides the .env);
 * resolves once it printed its whole banner.
 */
async function start(env = {}) {
  const server = await startReverb({ cwd: app.dir, env: { REVERB_APPS_RELOAD_INTERVAL: '0', ...env } });
  servers.push(server);
  await printed(server, /Open file limit/);
  return server;
}

/** `artisan reverb:apps:reload` in another process; it must succeed. */
async function reload() {
  const result = await artisan(['reverb:apps:reload'], { cwd: app.dir });
  assert.equal(result.code, 0, result.stdout + result.stderr);
}

/**
 * A pusher-js client of the app with `key`, subscribing to `news`: the close codes it is told
 * of, the events it gets on `news`, and promises of being subscribed or refused.
 */
function client(server, key) {
  const pusher = pusherFor(server.port, key);
  clients.push(pusher);
  const seen = { codes: [], events: [] };
  pusher.connection.bind('error', (error) => seen.codes.push(error?.error?.data?.code ?? error?.data?.code));
  const channel = pusher.subscribe('news');
  channel.bind('shipped', (data) => seen.events.push(data));
  const subscription = new Promise((resolve) => channel.bind('pusher:subscription_succeeded', resolve));
  return {
    pusher,
    seen,
    /** Resolves once the client is subscribed to `news`. */
    subscribed: () => within(subscription, 10_000, `subscription with ${key}`),
    /** Resolves once the client was told one of `codes` (4001: no such app, 4003: app disabled). */
    closedWith: (...codes) => waitUntil(() => seen.codes.some((code) => codes.includes(code)), 10_000, `close code ${codes.join(' or ')} for ${key}`),
  };
}

/** A signed Pusher HTTP API publish of `shipped` on `news`; resolves with the status. */
async function publish(server, appId, key, secret) {
  const body = JSON.stringify({ name: 'shipped', channel: 'news', data: JSON.stringify({ app: appId }) });
  const response = await fetch(`http://127.0.0.1:${server.port}${signedEventsRequest(appId, key, secret, body)}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body,
  });
  await response.arrayBuffer();
  return response.status;
}

/** Publishes `shipped` on `news` with the official Python `pusher` SDK; it must succeed. */
function publishWithPythonSdk(server, appId, key, secret) {
  const script = [
    'import json, sys, pusher',
    'client = pusher.Pusher(app_id=sys.argv[1], key=sys.argv[2], secret=sys.argv[3], host="127.0.0.1", port=int(sys.argv[4]), ssl=False)',
    'client.trigger("news", "shipped", {"app": sys.argv[1]})',
  ].join('\n');
  return new Promise((resolve, reject) => {
    execFile('python3', ['-c', script, appId, key, secret, String(server.port)], { timeout: 10_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`the Python SDK failed: ${stdout}${stderr}`));
      else resolve();
    });
  });
}

/** Resolves once the server printed a line matching `pattern`. */
const printed = (server, pattern, ms = 10_000) => waitUntil(() => pattern.test(server.output()), ms, `${pattern} in:\n${server.output()}`);

describe('apps from a MariaDB reverb_apps table', () => {
  before(async () => {
    mariadb = await startMariaDb();
    await mariadb.sql(`CREATE DATABASE ${DATABASE}`);
    app = copyApp();
    writeFileSync(path.join(app.dir, 'config/database.php'), DATABASE_CONFIG);
    editFile(app.dir, '.env', (env) => `${env}
DB_CONNECTION=mysql
DB_HOST=127.0.0.1
DB_PORT=${mariadb.port}
DB_DATABASE=${DATABASE}
DB_USERNAME=root
REVERB_APPS_PROVIDER=database
`);
    for (const args of [['vendor:publish', '--tag=reverb-rs-migrations'], ['migrate', '--force']]) {
      const result = await artisan(args, { cwd: app.dir });
      assert.equal(result.code, 0, result.stdout + result.stderr);
    }
  });

  afterEach(async () => {
    clients.forEach((pusher) => pusher.disconnect());
    clients = [];
    await Promise.all(servers.map((server) => server.stop()));
    servers = [];
    await sql('DELETE FROM reverb_apps');
  });

  after(async () => {
    app?.remove();
    await mariadb?.stop();
  });

  test('the rows are served; a faulty row is reported by id and column and the others are served', async () => {
    await insertApp('shop-1');
    await insertApp('shop-2');
    await insertApp('shop-3', { allowed_origins: '"*"' });

    const server = await start();

    assert.match(server.output(), /App 'shop-3' \(reverb_apps row\): allowed_origins must be a JSON list/);
    assert.match(server.output(), /App shop-1 \(key shop-1-key\)\n {2}App shop-2 \(key shop-2-key\)\n/);
    await client(server, 'shop-1-key').subscribed();
    await client(server, 'shop-2-key').subscribed();
    await client(server, 'shop-3-key').closedWith(4001);
  });

  test('reverb:apps:reload from another process: a new row is served, a new secret is valid at once, a disabled app is closed with 4003, a deleted one with 4001', async () => {
    for (const id of ['shop-1', 'shop-2', 'shop-4']) await insertApp(id);
    const server = await start();
    const first = client(server, 'shop-1-key');
    const second = client(server, 'shop-2-key');
    const fourth = client(server, 'shop-4-key');
    await Promise.all([first.subscribed(), second.subscribed(), fourth.subscribed()]);

    await insertApp('shop-5');
    await sql("UPDATE reverb_apps SET secret = 'rotated' WHERE id = 'shop-1'");
    await sql("UPDATE reverb_apps SET enabled = 0 WHERE id = 'shop-2'");
    await sql("DELETE FROM reverb_apps WHERE id = 'shop-4'");
    await reload();

    await printed(server, /Apps reloaded: 1 added, 1 changed, 2 removed/);
    await second.closedWith(4003);
    await fourth.closedWith(4001);
    await client(server, 'shop-5-key').subscribed();
    assert.equal(first.pusher.connection.state, 'connected');
    assert.equal(await publish(server, 'shop-1', 'shop-1-key', 'shop-1-secret'), 401);
    assert.equal(await publish(server, 'shop-1', 'shop-1-key', 'rotated'), 200);
    await waitUntil(() => first.seen.events.length === 1, 5_000, 'the event published with the new secret');
    await client(server, 'shop-2-key').closedWith(4001, 4003);
  });

  test('a row gone bad keeps its running version; an entry the engine refuses is reported; the other apps are served', async () => {
    await insertApp('shop-1');
    const server = await start();
    const first = client(server, 'shop-1-key');
    await first.subscribed();

    await sql(`UPDATE reverb_apps SET webhooks = '"https://shop.test/hooks"' WHERE id = 'shop-1'`);
    await insertApp('shop-6', { ping_interval: 0 });
    await insertApp('shop-7');
    await reload();

    await printed(server, /Apps reloaded: 1 added, 0 changed, 0 removed/);
    assert.match(server.output(), /App 'shop-1' \(reverb_apps row\): webhooks must be a JSON list/);
    assert.match(server.output(), /App 'shop-6' \(reverb_apps row\): ping_interval /);
    await client(server, 'shop-1-key').subscribed();
    await client(server, 'shop-7-key').subscribed();
    await client(server, 'shop-6-key').closedWith(4001);
    assert.equal(first.pusher.connection.state, 'connected');
  });

  test('apps.reload_interval: a new row is served without the command', async () => {
    await insertApp('shop-1');
    const server = await start({ REVERB_APPS_RELOAD_INTERVAL: '1' });
    assert.match(server.output(), /Apps read again every 1 s and by reverb:apps:reload/);

    await insertApp('shop-8');

    await printed(server, /Apps reloaded: 1 added, 0 changed, 0 removed/, 5_000);
    await client(server, 'shop-8-key').subscribed();
  });

  test('both nodes of a cluster over Redis reload on one reverb:apps:reload; the Python SDK publishes to the new app across nodes', async () => {
    const redis = await startRedis();
    try {
      const scaling = {
        REVERB_SCALING_ENABLED: 'true',
        REDIS_HOST: '127.0.0.1',
        REDIS_PORT: String(redis.port),
        REVERB_SCALING_PREFIX: `apps_${Date.now()}_`,
      };
      await insertApp('shop-1');
      const [one, two] = [await start(scaling), await start(scaling)];
      await Promise.all([one, two].map((server) => printed(server, /Connected to Redis/)));

      // The Python SDK takes numeric app ids only, as Pusher issues them.
      await insertApp('9009');
      await reload();

      await Promise.all([one, two].map((server) => printed(server, /Apps reloaded: 1 added, 0 changed, 0 removed/)));
      await client(one, '9009-key').subscribed();
      const onTwo = client(two, '9009-key');
      await onTwo.subscribed();
      await publishWithPythonSdk(one, '9009', '9009-key', '9009-secret');
      await waitUntil(() => onTwo.seen.events.length === 1, 5_000, 'the SDK\'s event on the other node');
      assert.deepEqual(onTwo.seen.events[0], { app: '9009' });
    } finally {
      await Promise.all(servers.splice(0).map((server) => server.stop()));
      await redis.stop();
    }
  });

  test('on-demand lookups: nothing is read at start, apps are looked up by key and by id, a reload reads the looked-up ones again', async () => {
    await insertApp('shop-1');
    const server = await start({ REVERB_APPS_LOOKUP: 'true' });
    assert.match(server.output(), /Apps looked up as clients ask for them \(reverb_apps row\)/);
    assert.doesNotMatch(server.output(), /App shop-1/);

    await insertApp('shop-10');
    await insertApp('shop-11');
    const first = client(server, 'shop-1-key');
    const tenth = client(server, 'shop-10-key');
    await Promise.all([first.subscribed(), tenth.subscribed()]);
    await client(server, 'nobody').closedWith(4001);
    assert.equal(await publish(server, 'shop-11', 'shop-11-key', 'shop-11-secret'), 200);

    await sql("UPDATE reverb_apps SET secret = 'rotated' WHERE id = 'shop-10'");
    await sql("DELETE FROM reverb_apps WHERE id = 'shop-1'");
    await reload();

    await printed(server, /Apps reloaded: 0 added, 1 changed, 1 removed/);
    await first.closedWith(4001);
    assert.equal(await publish(server, 'shop-10', 'shop-10-key', 'rotated'), 200);
    await waitUntil(() => tenth.seen.events.length === 1, 5_000, 'the event published with the new secret');
  });
});
