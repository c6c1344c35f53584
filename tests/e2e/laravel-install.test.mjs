// The install paths of the Laravel docs with reverb-rs, on fresh Laravel 12.67 and 11.33
// skeletons: `composer require reverb-rs/reverb-rs` then `php artisan install:broadcasting`
// (asked at a terminal, and as a script would run it) must not install laravel/reverb and must
// leave an app whose `reverb:start` serves the Echo bootstrap Laravel wrote; and an app set up
// with laravel/reverb and Pulse keeps working after swapping the package, nothing else edited.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { randomBytes } from 'node:crypto';
import { artisan, copyApp, extension, nextPushed, readEnv, root, startReverb } from './laravel-support.mjs';
import { LARAVEL, artisanOk, composer, laravelApp } from './laravel-apps-support.mjs';

/**
 * `php artisan ...args` at a pseudo-terminal (util-linux `script`), as a user runs it: each
 * `[prompt, key]` of `answers` types `key` once `prompt` is on screen, then Enter once the
 * prompt shows the choice. Resolves with { code, output }.
 */
function artisanAtTerminal(args, { cwd, answers }) {
  const command = ['php', '-d', `extension=${extension}`, 'artisan', ...args].map((word) => `'${word}'`).join(' ');
  const child = spawn('script', ['-qfec', command, '/dev/null'], { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  let answered = 0;
  let typed = false;
  const onOutput = (chunk) => {
    output += chunk;
    const [prompt, key, chosen] = answers[answered] ?? [];
    const screen = output.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
    if (!prompt || !prompt.test(screen)) return;
    if (!typed) {
      child.stdin.write(key);
      typed = true;
    } else if (chosen.test(screen.slice(screen.search(prompt)))) {
      child.stdin.write('\r');
      answered += 1;
      typed = false;
    }
  };
  child.stdout.on('data', onOutput);
  child.stderr.on('data', onOutput);
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? signal, output });
    });
  });
}

/**
 * The app's resources/js/echo.js as Vite would build it: `import.meta.env.VITE_*` from .env
 * (with `${VAR}` expanded, `overrides` first), laravel-echo and pusher-js from node_modules.
 * Resolves with the `window.Echo` it creates.
 */
async function echoFromApp(dir, overrides) {
  const env = { ...readEnv(dir), ...overrides };
  const value = (name) => (env[name] ?? '').replace(/\$\{(\w+)\}/g, (_, inner) => env[inner] ?? '');
  const source = readFileSync(path.join(dir, 'resources/js/echo.js'), 'utf8')
    .replace(/import\.meta\.env\.(\w+)/g, (_, name) => (name in env ? JSON.stringify(value(name)) : 'undefined'))
    .replace(/from '(laravel-echo|pusher-js)'/g, (_, name) => `from '${import.meta.resolve(name)}'`);
  const built = path.join(dir, `echo-${randomBytes(4).toString('hex')}.mjs`);
  writeFileSync(built, source);
  globalThis.window = globalThis;
  try {
    await import(pathToFileURL(built).href);
  } finally {
    rmSync(built);
  }
  return globalThis.window.Echo;
}

/**
 * The app serves laravel-echo: `reverb:start` as configured (only the port moved off 8080),
 * the app's Echo bootstrap subscribed to a public channel, and an event the app broadcasts
 * from another process (tinker) reaching it.
 */
async function assertServesEcho(dir) {
  const server = await startReverb({ cwd: dir });
  const ports = { REVERB_PORT: String(server.port) };
  let echo;
  try {
    echo = await echoFromApp(dir, ports);
    const received = [];
    const channel = echo.channel('news').listen('.hello', (data) => received.push(data));
    await new Promise((resolve) => channel.subscribed(resolve));
    const sent = await artisan(['tinker', '--execute',
      "Illuminate\\Support\\Facades\\Broadcast::on('news')->as('hello')->with(['text' => 'hi'])->sendNow();"], {
      cwd: dir,
      env: ports,
    });
    assert.equal(sent.code, 0, sent.stdout + sent.stderr);
    assert.deepEqual(await nextPushed(received, 0, 'the event broadcast by the app'), { text: 'hi' });
  } finally {
    echo?.disconnect();
    await server.stop();
  }
}

/** What install:broadcasting leaves with reverb-rs: its files, .env and no laravel/reverb. */
function assertInstalled(dir, output) {
  assert.doesNotMatch(output, /laravel\/reverb|Would you like to install Laravel Reverb/);
  assert.equal(existsSync(path.join(dir, 'vendor/laravel/reverb')), false, 'laravel/reverb was not installed');
  assert.equal(JSON.parse(readFileSync(path.join(dir, 'composer.json'), 'utf8')).require['laravel/reverb'], undefined);
  const env = readEnv(dir);
  assert.equal(env.BROADCAST_CONNECTION, 'reverb');
  assert.match(env.REVERB_APP_ID ?? '', /^\d+$/);
  assert.match(env.REVERB_APP_KEY ?? '', /^[a-z0-9]{20}$/);
  assert.match(env.REVERB_APP_SECRET ?? '', /^[a-z0-9]{20}$/);
  assert.equal(env.VITE_REVERB_APP_KEY, '${REVERB_APP_KEY}');
  const file = (name) => readFileSync(path.join(dir, name), 'utf8');
  assert.equal(file('config/reverb.php'), readFileSync(path.join(root, 'php/config/reverb.php'), 'utf8'));
  assert.match(file('config/broadcasting.php'), /'reverb' => \[\s*'driver' => 'reverb',/);
  assert.match(file('routes/channels.php'), /Broadcast::channel\(/);
  assert.match(file('bootstrap/app.php'), /channels: __DIR__\.'\/\.\.\/routes\/channels\.php'/);
  assert.match(file('resources/js/echo.js'), /broadcaster: 'reverb'/);
  assert.match(file('resources/js/bootstrap.js'), /import '\.\/echo'/);
}

/** Every file of an app but vendor/, storage/, bootstrap/cache and Composer's files. */
function appFiles(dir) {
  const files = {};
  const walk = (sub) => {
    for (const entry of readdirSync(path.join(dir, sub))) {
      const relative = path.join(sub, entry);
      if (/^(vendor|storage|bootstrap\/cache|node_modules|composer\.(json|lock))(\/|$)/.test(relative)) continue;
      if (statSync(path.join(dir, relative)).isDirectory()) walk(relative);
      else files[relative] = readFileSync(path.join(dir, relative)).toString('base64');
    }
  };
  walk('');
  return files;
}

for (const [version, spec] of Object.entries(LARAVEL)) {
  describe(spec.name, () => {
    const apps = [];
    /** A copy of a built app of `variant`, removed after the suite. */
    async function fresh(variant) {
      const app = copyApp(await laravelApp(version, variant));
      apps.push(app);
      return app.dir;
    }
    before(() => laravelApp(version, 'skeleton'));
    after(() => apps.forEach((app) => app.remove()));

    test(`composer require, then install:broadcasting ${[...spec.reverbOption, '--without-node --no-interaction'].join(' ')}: reverb:start serves the app's Echo`, async () => {
      const dir = await fresh('skeleton');
      const required = await composer(['require', 'reverb-rs/reverb-rs'], { cwd: dir });
      assert.doesNotMatch(required.stdout + required.stderr, /laravel\/reverb/);
      const install = await artisanOk(['install:broadcasting', ...spec.reverbOption, '--without-node', '--no-interaction'], { cwd: dir });
      assertInstalled(dir, install.stdout + install.stderr);
      await assertServesEcho(dir);
    });

    test(`install:broadcasting ${spec.reverbOption.join(' ')} at a terminal asks only about Node and sets up reverb-rs`, async () => {
      const dir = await fresh('skeleton');
      await composer(['require', 'reverb-rs/reverb-rs'], { cwd: dir });
      const install = await artisanAtTerminal(['install:broadcasting', ...spec.reverbOption], {
        cwd: dir,
        answers: [[/Node dependencies/, 'n', /● No/]],
      });
      assert.equal(install.code, 0, install.output);
      assert.match(install.output, /Node dependencies/);
      assertInstalled(dir, install.output);
      await assertServesEcho(dir);
    });

    test('an app set up with laravel/reverb and Pulse works after `composer remove --no-update laravel/reverb && composer require reverb-rs/reverb-rs`', async () => {
      const dir = await fresh('reverb');
      const before = appFiles(dir);
      await composer(['remove', '--no-update', 'laravel/reverb'], { cwd: dir });
      await composer(['require', 'reverb-rs/reverb-rs'], { cwd: dir });
      assert.equal(existsSync(path.join(dir, 'vendor/laravel/reverb')), false, 'laravel/reverb is gone');
      assert.deepEqual(appFiles(dir), before, 'nothing but Composer\'s files changed');
      assert.match(readFileSync(path.join(dir, 'config/pulse.php'), 'utf8'), /Laravel\\Reverb\\Pulse\\Recorders\\ReverbConnections::class/);

      const list = await artisanOk(['list'], { cwd: dir });
      assert.match(list.stdout, /reverb:start/);
      assert.match(list.stdout, /pulse:check/);
      await assertServesEcho(dir);
    });
  });
}
