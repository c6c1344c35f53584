// Laravel Pulse on a Laravel 12.67 app with reverb-rs (the fixture app with Pulse 1.4, SQLite,
// Reverb's recorders in config/pulse.php and its cards on the dashboard): `reverb:start` and
// `pulse:check` while two people are in a presence channel, whisper and post messages; then the
// Pulse tables hold the reverb_* aggregates, and /pulse in headless Chromium (Debian's
// /usr/bin/chromium, driven by playwright-core) shows both Reverb cards with their figures.
// Saves tests/artifacts/pulse.png. With apps from the reverb_apps table, pulse:check records
// the connections of the table's apps.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import {
  artisan,
  copyApp,
  echoFor,
  editFile,
  login,
  nextPushed,
  postAs,
  pusherFor,
  readEnv,
  root,
  startArtisan,
  startReverb,
  startStack,
  waitUntil,
} from '../e2e/laravel-support.mjs';
import { laravelApp } from '../e2e/laravel-apps-support.mjs';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const artifacts = path.join(root, 'tests/artifacts');
const WHISPERS = 5;
const MESSAGES = 5;
// At least what the server received: a subscription each and the whispers (pings may add to
// it); and sent: connection_established and subscription_succeeded each, Bob's member_added
// to Alice, the whispers and the messages.
const RECEIVED = 2 + WHISPERS;
const SENT = 2 + 2 + 1 + WHISPERS + MESSAGES;

/** Runs a PHP script in the app's folder; resolves with what it printed. */
function runPhp(dir, script) {
  return new Promise((resolve, reject) => {
    execFile('php', ['-r', script], { cwd: dir }, (error, stdout, stderr) => (error
      ? reject(new Error(`${error.message}\n${stderr}`))
      : resolve(stdout)));
  });
}

/**
 * The reverb_* rows of the app's Pulse tables: the aggregates summed by type, aggregate and
 * period, and how many entries there are.
 */
async function pulseRows(dir) {
  const script = `
    $db = new PDO('sqlite:database/database.sqlite');
    $aggregates = $db->query("select type, aggregate, period, key, sum(value) as total, max(value) as highest
      from pulse_aggregates where type like 'reverb_%' group by type, aggregate, period, key")->fetchAll(PDO::FETCH_ASSOC);
    $entries = $db->query("select count(*) from pulse_entries where type like 'reverb_%'")->fetchColumn();
    echo json_encode(['aggregates' => $aggregates, 'entries' => (int) $entries]);`;
  return JSON.parse(await runPhp(dir, script));
}

/** The figure of an aggregate of a type in the 1 hour period (60 s buckets), or undefined. */
const figure = (rows, type, aggregate, key = 'total') => {
  const row = rows.aggregates.find((r) => r.type === type && r.aggregate === aggregate && Number(r.period) === 60);
  return row && Number(row[key]);
};

describe('Laravel Pulse with reverb-rs on Laravel 12.67', () => {
  let app;
  let env;
  let stack;
  let pulseCheck;
  let rows;
  const echos = [];

  before(async () => {
    app = copyApp(await laravelApp(12, 'pulse'));
    env = readEnv(app.dir);
    stack = await startStack({ cwd: app.dir, env: { REVERB_PULSE_INGEST_INTERVAL: '1' } });

    // Alice and Bob in a presence channel: Bob whispers, Alice posts messages Bob receives.
    const alice = await login(stack.web.url, 'Alice');
    const bob = await login(stack.web.url, 'Bob');
    const aliceEcho = echoFor(alice, stack.reverb.port, env.REVERB_APP_KEY);
    const bobEcho = echoFor(bob, stack.reverb.port, env.REVERB_APP_KEY);
    echos.push(aliceEcho, bobEcho);
    const room = `pulse${randomBytes(4).toString('hex')}`;
    const whispers = [];
    const here = [];
    aliceEcho.join(`room.${room}`)
      .here((users) => here.push(users))
      .listenForWhisper('typing', (data) => whispers.push(data));
    const messages = [];
    const bobRoom = bobEcho.join(`room.${room}`)
      .here((users) => here.push(users))
      .listen('MessagePosted', (message) => messages.push(message));
    await nextPushed(here, 1, 'both in the room');
    for (let i = 0; i < WHISPERS; i++) bobRoom.whisper('typing', { n: i });
    await nextPushed(whispers, WHISPERS - 1, 'Bob\'s whispers');
    for (let i = 0; i < MESSAGES; i++) {
      const posted = await postAs(alice, '/messages', {
        json: { room, text: `message ${i}` },
        headers: { 'X-Socket-ID': aliceEcho.socketId() },
      });
      assert.equal(posted.status, 201, JSON.stringify(posted.body));
    }
    await nextPushed(messages, MESSAGES - 1, 'Alice\'s messages');

    // Reverb's connections recorder runs in pulse:check, on the beats of second 0, 15, 30, 45;
    // reverb:start records the messages every second (REVERB_PULSE_INGEST_INTERVAL).
    pulseCheck = startArtisan(['pulse:check'], { cwd: app.dir, env: { REVERB_PORT: String(stack.reverb.port) } });
    rows = await waitUntil(async () => {
      if (!pulseCheck.running()) throw new Error(`pulse:check exited:\n${pulseCheck.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
      const found = await pulseRows(app.dir);
      return figure(found, 'reverb_connections', 'max')
        && figure(found, 'reverb_message:received', 'sum') >= RECEIVED
        && figure(found, 'reverb_message:sent', 'sum') >= SENT ? found : null;
    }, 40_000, 'the reverb_* aggregates in the Pulse tables');
  });

  after(async () => {
    echos.forEach((echo) => echo.disconnect());
    await pulseCheck?.stop();
    await stack?.stop();
    app?.remove();
  });

  test('the Pulse tables hold the reverb_* aggregates Reverb writes, in buckets only', () => {
    assert.equal(figure(rows, 'reverb_connections', 'max', 'highest'), 2, 'Alice and Bob');
    assert.equal(figure(rows, 'reverb_connections', 'avg', 'highest'), 2);
    assert.ok(figure(rows, 'reverb_message:received', 'sum') >= RECEIVED, JSON.stringify(rows));
    assert.ok(figure(rows, 'reverb_message:sent', 'sum') >= SENT, JSON.stringify(rows));
    for (const type of ['reverb_connections', 'reverb_message:sent', 'reverb_message:received']) {
      const periods = rows.aggregates.filter((r) => r.type === type).map((r) => Number(r.period));
      assert.deepEqual([...new Set(periods)].sort((a, b) => a - b), [60, 360, 1440, 10080], type);
    }
    assert.equal(rows.entries, 0, 'onlyBuckets(): no pulse_entries rows');
  });

  test('/pulse shows the Reverb Connections and Reverb Messages cards with their figures', {
    skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing (apt-get install chromium)`,
  }, async () => {
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      timeout: 30_000,
    });
    const pageErrors = [];
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      page.setDefaultTimeout(15_000);
      page.on('pageerror', (error) => pageErrors.push(error.message));
      const response = await page.goto(`${stack.web.url}/pulse`);
      assert.equal(response.status(), 200);

      const card = (name) => page.locator('section', { has: page.getByRole('heading', { name }) });
      const connections = card('Reverb Connections');
      const messages = card('Reverb Messages');
      const peak = connections.locator('[title^="Peak connections"]');
      const busiest = messages.locator('[title^="Most messages"]');
      await peak.waitFor();
      await busiest.waitFor();
      await connections.locator('canvas').waitFor();
      await messages.locator('canvas').waitFor();

      assert.match(await connections.textContent(), new RegExp(env.REVERB_APP_ID));
      assert.match(await messages.textContent(), /Sent per second/);
      assert.equal(Number((await peak.textContent()).trim()), 2, 'the peak: Alice and Bob');
      const most = Number((await busiest.textContent()).trim().replace(/,/g, ''));
      assert.ok(most > 0, `the messages figure is ${most}`);

      await page.waitForLoadState('networkidle');
      mkdirSync(artifacts, { recursive: true });
      await page.screenshot({ path: path.join(artifacts, 'pulse.png'), fullPage: true });
      assert.deepEqual(pageErrors, []);
    } finally {
      await browser.close().catch(() => {});
    }
  });
});

describe('Laravel Pulse with apps from the reverb_apps table', () => {
  let app;
  let reverb;
  let pulseCheck;
  let pusher;

  before(async () => {
    app = copyApp(await laravelApp(12, 'pulse'));
    editFile(app.dir, '.env', (env) => `${env}\nREVERB_APPS_PROVIDER=database\n`);
    for (const args of [['vendor:publish', '--tag=reverb-rs-migrations'], ['migrate', '--force']]) {
      const result = await artisan(args, { cwd: app.dir });
      assert.equal(result.code, 0, result.stdout + result.stderr);
    }
    await runPhp(app.dir, `(new PDO('sqlite:database/database.sqlite'))->exec(
      "insert into reverb_apps (id, key, secret) values ('shop-1', 'shop-key', 'shop-secret')");`);
  });

  after(async () => {
    pusher?.disconnect();
    await pulseCheck?.stop();
    await reverb?.stop();
    app?.remove();
  });

  test('pulse:check records the connections of the table\'s apps, asked where the app publishes', async () => {
    reverb = await startReverb({ cwd: app.dir });
    pusher = pusherFor(reverb.port, 'shop-key');
    await new Promise((resolve, reject) => {
      pusher.connection.bind('connected', resolve);
      pusher.connection.bind('failed', () => reject(new Error('pusher-js could not connect')));
    });

    // The row has no options: the recorder asks the server where the `reverb` broadcast
    // connection points (REVERB_HOST and REVERB_PORT).
    pulseCheck = startArtisan(['pulse:check'], { cwd: app.dir, env: { REVERB_PORT: String(reverb.port) } });
    const connections = (rows, key) => rows.aggregates.find((r) => r.type === 'reverb_connections'
      && r.aggregate === 'max' && Number(r.period) === 60 && r.key === key);
    const rows = await waitUntil(async () => {
      if (!pulseCheck.running()) throw new Error(`pulse:check exited:\n${pulseCheck.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
      const found = await pulseRows(app.dir);
      return connections(found, 'shop-1') ? found : null;
    }, 40_000, 'the connections of shop-1 in the Pulse tables');

    assert.equal(Number(connections(rows, 'shop-1').highest), 1, JSON.stringify(rows));
    const env = readEnv(app.dir);
    assert.equal(connections(rows, env.REVERB_APP_ID), undefined, 'the config/reverb.php app is not served');
  });
});
