<?php

declare(strict_types=1);

namespace ReverbRs\Laravel\Console;

use Illuminate\Console\Command;
use Illuminate\Filesystem\Filesystem;
use Illuminate\Support\Str;

/**
 * `php artisan reverb:install`: sets up broadcasting with reverb-rs in an application: the
 * REVERB_* and VITE_REVERB_* variables in .env (never overwriting existing ones),
 * config/reverb.php, the `reverb` connection in config/broadcasting.php, and the broadcast
 * driver. Running it again changes nothing.
 */
final class InstallCommand extends Command
{
    /** @var string */
    protected $signature = 'reverb:install';

    /** @var string */
    protected $description = 'Install the Reverb dependencies';

    /** The connection block inserted into config/broadcasting.php, as laravel/reverb writes it. */
    private const CONNECTION = <<<'PHP'

        'reverb' => [
            'driver' => 'reverb',
            'key' => env('REVERB_APP_KEY'),
            'secret' => env('REVERB_APP_SECRET'),
            'app_id' => env('REVERB_APP_ID'),
            'options' => [
                'host' => env('REVERB_HOST'),
                'port' => env('REVERB_PORT', 443),
                'scheme' => env('REVERB_SCHEME', 'https'),
                'useTLS' => env('REVERB_SCHEME', 'https') === 'https',
                'path' => env('REVERB_SERVER_PATH', ''),
            ],
            'client_options' => [
                // Guzzle client options: https://docs.guzzlephp.org/en/stable/request-options.html
            ],
        ],

PHP;

    /** @var string[] what this run changed, reported at the end */
    private array $changes = [];

    public function handle(Filesystem $files): int
    {
        $this->addEnvironmentVariables($files);
        $this->publishConfiguration($files);
        $this->addBroadcastingConnection($files);
        $this->enableBroadcastServiceProvider($files);
        $this->selectBroadcastDriver($files);

        if ($this->changes === []) {
            $this->info('Reverb is already installed: nothing changed.');
            return self::SUCCESS;
        }
        foreach ($this->changes as $change) {
            $this->line("  - {$change}");
        }
        $this->info('Reverb installed. Start the server with: php artisan reverb:start');

        return self::SUCCESS;
    }

    private function addEnvironmentVariables(Filesystem $files): void
    {
        $path = $this->laravel->basePath('.env');
        $env = $files->exists($path) ? $files->get($path) : '';
        $lines = [
            'REVERB_APP_ID' => (string) random_int(100_000, 999_999),
            'REVERB_APP_KEY' => Str::lower(Str::random(20)),
            'REVERB_APP_SECRET' => Str::lower(Str::random(20)),
            'REVERB_HOST' => '"localhost"',
            'REVERB_PORT' => '8080',
            'REVERB_SCHEME' => 'http',
            '' => '',
            'VITE_REVERB_APP_KEY' => '"${REVERB_APP_KEY}"',
            'VITE_REVERB_HOST' => '"${REVERB_HOST}"',
            'VITE_REVERB_PORT' => '"${REVERB_PORT}"',
            'VITE_REVERB_SCHEME' => '"${REVERB_SCHEME}"',
        ];
        $append = '';
        $added = [];
        foreach ($lines as $key => $value) {
            if ($key === '') {
                $append .= $append === '' ? '' : "\n";
                continue;
            }
            if (!preg_match('/^' . preg_quote($key, '/') . '=/m', $env)) {
                $append .= "{$key}={$value}\n";
                $added[] = $key;
            }
        }
        if ($added === []) {
            return;
        }
        $separator = $env === '' || str_ends_with($env, "\n\n") ? '' : (str_ends_with($env, "\n") ? "\n" : "\n\n");
        $files->put($path, $env . $separator . rtrim($append, "\n") . "\n");
        $this->changes[] = 'added to .env: ' . implode(', ', $added);
    }

    private function publishConfiguration(Filesystem $files): void
    {
        $target = $this->laravel->configPath('reverb.php');
        if ($files->exists($target)) {
            return;
        }
        $files->copy(__DIR__ . '/../../config/reverb.php', $target);
        $this->changes[] = 'published config/reverb.php';
    }

    private function addBroadcastingConnection(Filesystem $files): void
    {
        $path = $this->laravel->configPath('broadcasting.php');
        if (!$files->exists($path)) {
            $files->copy($this->broadcastingStub($files), $path);
            $this->changes[] = 'created config/broadcasting.php';
        }
        $contents = $files->get($path);
        if (preg_match("/['\"]reverb['\"]\s*=>\s*\[/", $contents)) {
            return;
        }
        $updated = preg_replace("/(['\"]connections['\"]\s*=>\s*\[\n)/", '$1' . self::CONNECTION, $contents, 1, $count);
        if ($count === 0) {
            $this->warn("Could not find 'connections' => [ in config/broadcasting.php; add the reverb connection by hand:");
            $this->line(self::CONNECTION);
            return;
        }
        $files->put($path, $updated);
        $this->changes[] = 'added the reverb connection to config/broadcasting.php';
    }

    /** Laravel 11+ ships its default config files with the framework; older ones get ours. */
    private function broadcastingStub(Filesystem $files): string
    {
        $framework = dirname((string) (new \ReflectionClass(\Illuminate\Foundation\Application::class))->getFileName(), 4);
        $candidate = "{$framework}/config/broadcasting.php";

        return $files->exists($candidate) ? $candidate : __DIR__ . '/../../stubs/broadcasting.php';
    }

    /** Laravel 8-10 skeletons ship BroadcastServiceProvider commented out in config/app.php. */
    private function enableBroadcastServiceProvider(Filesystem $files): void
    {
        $path = $this->laravel->configPath('app.php');
        if (!$files->exists($path)) {
            return;
        }
        $contents = $files->get($path);
        $updated = str_replace(
            '// App\Providers\BroadcastServiceProvider::class',
            'App\Providers\BroadcastServiceProvider::class',
            $contents
        );
        if ($updated !== $contents) {
            $files->put($path, $updated);
            $this->changes[] = 'enabled App\Providers\BroadcastServiceProvider in config/app.php';
        }
    }

    /** Points BROADCAST_CONNECTION (Laravel 11+) or BROADCAST_DRIVER (older) at reverb. */
    private function selectBroadcastDriver(Filesystem $files): void
    {
        $path = $this->laravel->basePath('.env');
        $env = $files->get($path);
        $pattern = '/^(BROADCAST_CONNECTION|BROADCAST_DRIVER)=(.*)$/m';
        if (preg_match_all($pattern, $env, $matches)) {
            $updated = preg_replace($pattern, '$1=reverb', $env);
        } else {
            $key = version_compare($this->laravel->version(), '11.0', '>=') ? 'BROADCAST_CONNECTION' : 'BROADCAST_DRIVER';
            $updated = rtrim($env, "\n") . "\n{$key}=reverb\n";
        }
        if ($updated !== $env) {
            $files->put($path, $updated);
            $this->changes[] = 'set the broadcast driver to reverb in .env';
        }
    }
}
