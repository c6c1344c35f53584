// The demo chat page of the fixture Laravel app in headless Chromium (Debian's /usr/bin/chromium,
// driven by playwright-core): two people, presence, messages both ways, typing whispers, a message
// from `artisan app:post-message`, and someone leaving. Saves tests/artifacts/chat.png.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { root, startReverb, startWeb, artisan } from '../e2e/laravel-support.mjs';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const artifacts = path.join(root, 'tests/artifacts');
const WAIT = 10_000;

test('two people chat on the demo page: presence, messages, typing, artisan, leaving', {
  skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing (apt-get install chromium)`,
}, async () => {
  const reverb = await startReverb();
  let web;
  let browser;
  const pageErrors = [];
  try {
    web = await startWeb({ reverbPort: reverb.port });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      timeout: 30_000,
    });

    /** A separate browser profile (own cookies) signed in as `name`, on the room page. */
    async function open(name) {
      const context = await browser.newContext({ viewport: { width: 900, height: 560 } });
      context.setDefaultTimeout(WAIT);
      const page = await context.newPage();
      page.on('pageerror', (error) => pageErrors.push(`${name}: ${error.message}`));
      await page.goto(`${web.url}/?name=${name}&room=demo`);
      assert.equal(new URL(page.url()).pathname, '/');
      await page.locator('#status[data-state="connected"]').waitFor();
      return { page, context };
    }
    const members = (page) => page.locator('#members li');
    const message = (page, text) => page.locator('#messages li.message', { hasText: text });

    // The name form comes first for a visitor without a session.
    const visitor = await browser.newPage();
    await visitor.goto(`${web.url}/`);
    assert.equal(await visitor.locator('form input[name="name"]').count(), 1);
    await visitor.close();

    const alice = await open('Alice');
    await members(alice.page).filter({ hasText: 'Alice' }).waitFor();
    const bob = await open('Bob');

    // Each sees both in the presence list.
    await members(alice.page).filter({ hasText: 'Bob' }).waitFor();
    await members(bob.page).filter({ hasText: 'Alice' }).waitFor();
    assert.deepEqual(await members(alice.page).allTextContents(), ['Alice', 'Bob']);
    assert.deepEqual(await members(bob.page).allTextContents(), ['Alice', 'Bob']);
    await alice.page.locator('#messages li.system', { hasText: 'Bob joined' }).waitFor();

    // Alice types: Bob sees the typing indicator (a whisper), then her message.
    await alice.page.locator('#message').pressSequentially('Hi Bob, this goes through reverb-rs', { delay: 5 });
    await bob.page.locator('#typing:not([hidden])', { hasText: 'Alice is typing' }).waitFor();
    await alice.page.locator('#message').press('Enter');
    await message(bob.page, 'Hi Bob, this goes through reverb-rs').waitFor();
    await message(alice.page, 'Hi Bob, this goes through reverb-rs').and(alice.page.locator('.mine')).waitFor();
    await bob.page.locator('#typing[hidden]').waitFor({ state: 'attached' });

    // And back.
    await bob.page.locator('#message').fill('Hello Alice!');
    await bob.page.locator('#composer button').click();
    await message(alice.page, 'Hello Alice!').waitFor();
    // The sender adds its message when its POST answers, which may come after Alice's copy.
    await message(bob.page, 'Hello Alice!').and(bob.page.locator('.mine')).waitFor();
    assert.equal(await message(bob.page, 'Hello Alice!').count(), 1, 'the sender shows its message once');
    assert.equal(await message(alice.page, 'Hi Bob').count(), 1, 'the sender shows its message once');

    // From another process: php artisan app:post-message.
    const posted = await artisan(['app:post-message', 'Deploy finished', '--room=demo', '--as=CI'], {
      env: { REVERB_PORT: String(reverb.port) },
    });
    assert.equal(posted.code, 0, posted.stdout + posted.stderr);
    await message(alice.page, 'Deploy finished').waitFor();
    await message(bob.page, 'Deploy finished').waitFor();

    // Bob starts typing again: the screenshot shows the list, the messages and the indicator.
    await bob.page.locator('#message').pressSequentially('See you', { delay: 5 });
    await alice.page.locator('#typing:not([hidden])', { hasText: 'Bob is typing' }).waitFor();
    mkdirSync(artifacts, { recursive: true });
    await alice.page.screenshot({ path: path.join(artifacts, 'chat.png') });

    // Bob closes his window: Alice sees him leave.
    await bob.context.close();
    await alice.page.locator('#messages li.system', { hasText: 'Bob left' }).waitFor();
    assert.deepEqual(await members(alice.page).allTextContents(), ['Alice']);
    assert.deepEqual(pageErrors, []);
  } finally {
    await browser?.close().catch(() => {});
    await web?.stop();
    await reverb.stop();
  }
});
