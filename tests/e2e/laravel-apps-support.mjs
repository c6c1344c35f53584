// Laravel 11 and 12 apps for the end-to-end tests, made with Composer from the laravel/laravel
// skeletons: offline from the artifact repository in COMPOSER_REPO (../shared/composer-repo
// next to the repository by default) when that folder exists, from Packagist otherwise. The
// package comes from this checkout through a Composer path repository, as `reverb-rs/reverb-rs`.
// Each app is built once and kept in tests/.apps/ until what it is made of changes; tests work
// on copies of it (copyApp).
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { appDir as legacyAppDir, artisan, root } from './laravel-support.mjs';

export const composerRepo = path.resolve(root, process.env.COMPOSER_REPO ?? '../shared/composer-repo');
export const offline = existsSync(composerRepo);
const cacheDir = path.join(root, 'tests/.apps');
const overlayDir = path.join(root, 'tests/laravel-app-modern');

/**
 * The tested Laravel versions: the skeleton, the framework it is pinned to, and the options
 * `install:broadcasting` needs to choose Reverb (Laravel 12 asks for a driver).
 */
export const LARAVEL = {
  12: { name: 'Laravel 12.67', skeleton: '12.11.2', framework: '12.67.0', reverbOption: ['--reverb'] },
  11: { name: 'Laravel 11.33', skeleton: '11.6.1', framework: '11.33.2', reverbOption: [] },
};

/** Files of the Laravel 8.83 fixture app that the Laravel 11 and 12 apps use as they are. */
const SHARED_FILES = [
  'app/Events/MessagePosted.php',
  'app/Console/Commands/PostMessage.php',
  'app/Http/Controllers/MessageController.php',
];

/** Runs a command to the end; rejects with its output when it fails. */
export function run(command, args, { cwd, env = {}, timeout = 300_000 } = {}) {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd, env: { ...process.env, ...env }, timeout, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      if (error) {
        reject(new Error(`${command} ${args.join(' ')} failed (${error.code ?? error.signal}) in ${cwd}:\n${stdout}${stderr}`));
      } else {
        resolve({ stdout, stderr });
      }
    });
  });
}

/**
 * The environment Composer runs in, also when artisan runs it: as root if need be, never
 * asking. The extension is not loaded into Composer's PHP, so its platform requirement is
 * waived (only that one).
 */
const composerEnv = {
  COMPOSER_ALLOW_SUPERUSER: '1',
  COMPOSER_NO_INTERACTION: '1',
  COMPOSER_IGNORE_PLATFORM_REQ: 'ext-reverb_rs',
};

/** Composer in `cwd`. */
export function composer(args, { cwd }) {
  return run('composer', [...args, '--no-interaction', '--no-progress'], { cwd, env: composerEnv });
}

/** `php artisan ...args` that must succeed; rejects with the output otherwise. */
export async function artisanOk(args, { cwd, env = {}, timeout = 60_000 } = {}) {
  const result = await artisan(args, { cwd, env, timeout });
  if (result.code !== 0) {
    throw new Error(`artisan ${args.join(' ')} failed (${result.code}) in ${cwd}:\n${result.stdout}${result.stderr}`);
  }
  return result;
}

/** The repositories of a test app: this checkout, then the offline repository or Packagist. */
function repositories() {
  const checkout = { type: 'path', url: root, options: { symlink: true, versions: { 'reverb-rs/reverb-rs': '0.1.0' } } };
  return offline
    ? [checkout, { type: 'artifact', url: composerRepo }, { 'packagist.org': false }]
    : [checkout];
}

/**
 * A fresh laravel/laravel skeleton in `dir`, pinned to the tested framework and Symfony
 * versions, without development packages (the offline repository has none), with its .env,
 * key and SQLite database.
 */
async function createSkeleton(version, dir) {
  const { skeleton, framework } = LARAVEL[version];
  if (offline) {
    mkdirSync(dir, { recursive: true });
    await run('unzip', ['-q', path.join(composerRepo, `laravel--laravel--${skeleton}.zip`), '-d', dir]);
  } else {
    await composer(['create-project', `laravel/laravel:${skeleton}`, dir, '--no-install', '--no-scripts'], { cwd: cacheDir });
  }
  const manifest = JSON.parse(readFileSync(path.join(dir, 'composer.json'), 'utf8'));
  delete manifest.version;
  delete manifest['require-dev'];
  manifest.require['laravel/framework'] = framework;
  // Laravel 11.33's artisan fails on symfony/console 7.3+; the offline repository has 7.2 only.
  manifest.require['symfony/console'] = '7.2.*';
  manifest.repositories = repositories();
  writeFileSync(path.join(dir, 'composer.json'), `${JSON.stringify(manifest, null, 4)}\n`);
  writeFileSync(path.join(dir, '.env'), readFileSync(path.join(dir, '.env.example')));
  writeFileSync(path.join(dir, 'database/database.sqlite'), '');
  await composer(['update'], { cwd: dir });
  await artisanOk(['key:generate'], { cwd: dir });
  await artisanOk(['migrate', '--force'], { cwd: dir });
}

/**
 * What the fixture app is built from besides the skeleton: reverb-rs and the Pusher SDK from
 * Composer, Laravel's own `install:broadcasting`, then the test app's code on top.
 */
async function createFixture(version, dir) {
  cpSync(await laravelApp(version, 'skeleton'), dir, { recursive: true, verbatimSymlinks: true });
  await composer(['require', 'reverb-rs/reverb-rs', 'pusher/pusher-php-server'], { cwd: dir });
  await artisanOk(['install:broadcasting', ...LARAVEL[version].reverbOption, '--without-node', '--no-interaction'], { cwd: dir });
  for (const file of SHARED_FILES) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    cpSync(path.join(legacyAppDir, file), path.join(dir, file));
  }
  cpSync(overlayDir, dir, { recursive: true, filter: (source) => path.basename(source) !== 'README.md' });
  writeFileSync(path.join(dir, '.env'), readFileSync(path.join(dir, '.env'), 'utf8')
    .replace(/^REVERB_HOST=.*$/m, 'REVERB_HOST=127.0.0.1'));
  await artisanOk(['migrate', '--force'], { cwd: dir });
}

/**
 * The Pulse 1.4 migration as published, made to run on Laravel 12.4+: its PulseMigration
 * declares shouldRun() protected where Laravel's Migration now has it public, so the migration
 * extends Laravel's Migration instead (what later Pulse releases do).
 */
function fixPulseMigration(dir) {
  const migrations = path.join(dir, 'database/migrations');
  for (const file of readdirSync(migrations).filter((name) => name.endsWith('_create_pulse_tables.php'))) {
    const target = path.join(migrations, file);
    const source = readFileSync(target, 'utf8');
    if (!source.includes('extends PulseMigration')) continue;
    writeFileSync(target, source
      .replace('use Laravel\\Pulse\\Support\\PulseMigration;',
        'use Illuminate\\Database\\Migrations\\Migration;\nuse Illuminate\\Support\\Facades\\DB;')
      .replace('return new class extends PulseMigration\n{\n', `return new class extends Migration
{
    public function getConnection(): ?string
    {
        return config('pulse.storage.database.connection');
    }

    public function shouldRun(): bool
    {
        return in_array($this->driver(), ['mariadb', 'mysql', 'pgsql', 'sqlite']);
    }

    protected function driver(): string
    {
        return DB::connection($this->getConnection())->getDriverName();
    }

`));
  }
}

/** Reverb's two Pulse recorders at the top of config/pulse.php's recorders, as its docs add them. */
function listReverbRecorders(dir) {
  const pulseConfig = path.join(dir, 'config/pulse.php');
  writeFileSync(pulseConfig, readFileSync(pulseConfig, 'utf8').replace("    'recorders' => [\n", `    'recorders' => [
        \\Laravel\\Reverb\\Pulse\\Recorders\\ReverbConnections::class => [
            'sample_rate' => 1,
        ],
        \\Laravel\\Reverb\\Pulse\\Recorders\\ReverbMessages::class => [
            'sample_rate' => 1,
        ],
`));
}

/**
 * An app set up with laravel/reverb 1.x the documented way, with Laravel Pulse and Reverb's
 * two Pulse recorders in config/pulse.php: what an app looks like before swapping to reverb-rs.
 */
async function createReverbApp(version, dir) {
  cpSync(await laravelApp(version, 'skeleton'), dir, { recursive: true, verbatimSymlinks: true });
  // Laravel itself runs `composer require laravel/reverb:^1.0` and `artisan reverb:install`.
  await artisanOk(['install:broadcasting', ...LARAVEL[version].reverbOption, '--without-node', '--no-interaction'], {
    cwd: dir,
    env: composerEnv,
    timeout: 300_000,
  });
  await composer(['require', 'laravel/pulse'], { cwd: dir });
  await artisanOk(['vendor:publish', '--provider=Laravel\\Pulse\\PulseServiceProvider'], { cwd: dir });
  fixPulseMigration(dir);
  listReverbRecorders(dir);
  await artisanOk(['migrate', '--force'], { cwd: dir });
}

/**
 * The fixture app with Laravel Pulse added as Reverb's docs have it: Pulse's config, dashboard
 * and migration published (the migration made to run on Laravel 12.4+), Reverb's two
 * recorders in config/pulse.php and its two cards at the top of the dashboard.
 */
async function createPulseApp(version, dir) {
  cpSync(await laravelApp(version, 'fixture'), dir, { recursive: true, verbatimSymlinks: true });
  await composer(['require', 'laravel/pulse'], { cwd: dir });
  await artisanOk(['vendor:publish', '--provider=Laravel\\Pulse\\PulseServiceProvider'], { cwd: dir });
  fixPulseMigration(dir);
  listReverbRecorders(dir);
  const dashboard = path.join(dir, 'resources/views/vendor/pulse/dashboard.blade.php');
  writeFileSync(dashboard, readFileSync(dashboard, 'utf8').replace('<x-pulse>\n', `<x-pulse>
    <livewire:reverb.connections cols="full" />

    <livewire:reverb.messages cols="full" />

`));
  await artisanOk(['migrate', '--force'], { cwd: dir });
}

const builders = { skeleton: createSkeleton, fixture: createFixture, reverb: createReverbApp, pulse: createPulseApp };

/** Every file below `dir`, for the build's fingerprint. */
function filesBelow(dir) {
  return readdirSync(dir, { recursive: true })
    .map((entry) => path.join(dir, entry))
    .filter((file) => statSync(file).isFile())
    .sort();
}

/** A hash of everything an app of `variant` is made of, so a change rebuilds it. */
function fingerprint(version, variant) {
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ version, variant, spec: LARAVEL[version], offline, repo: composerRepo }));
  const inputs = [fileURLToPath(import.meta.url), path.join(root, 'composer.json')];
  if (variant === 'fixture' || variant === 'pulse') {
    inputs.push(...filesBelow(overlayDir), ...SHARED_FILES.map((file) => path.join(legacyAppDir, file)));
  }
  for (const file of inputs) hash.update(file).update(readFileSync(file));
  return hash.digest('hex').slice(0, 12);
}

const building = new Map();

/**
 * The directory of a built Laravel `version` app: 'skeleton' (the fresh laravel/laravel app,
 * without reverb-rs), 'fixture' (with reverb-rs installed the documented way and the test
 * app's routes, events, models and notifications), 'pulse' (the fixture with Laravel Pulse
 * and Reverb's recorders and cards) or 'reverb' (set up with laravel/reverb and Pulse, for the
 * swap to reverb-rs). Built at most once; a concurrent build by
 * another test process is harmless (the first to finish wins).
 */
export function laravelApp(version, variant) {
  const key = `${version}-${variant}`;
  if (!building.has(key)) building.set(key, build(version, variant));
  return building.get(key);
}

async function build(version, variant) {
  const name = `laravel-${version}-${variant}`;
  const target = path.join(cacheDir, `${name}-${fingerprint(version, variant)}`);
  if (existsSync(target)) return target;
  mkdirSync(cacheDir, { recursive: true });
  const stale = (entry) => entry.startsWith(`${name}-`) && entry !== path.basename(target);
  for (const old of readdirSync(cacheDir).filter(stale)) {
    rmSync(path.join(cacheDir, old), { recursive: true, force: true });
  }
  const work = mkdtempSync(path.join(cacheDir, `.build-${name}-`));
  try {
    await builders[variant](version, work);
    try {
      renameSync(work, target);
    } catch (error) {
      if (!existsSync(target)) throw error;
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return target;
}
