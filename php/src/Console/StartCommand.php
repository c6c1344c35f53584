<?php

declare(strict_types=1);

namespace ReverbRs\Laravel\Console;

use Illuminate\Console\Command;
use Illuminate\Contracts\Cache\Repository as Cache;
use InvalidArgumentException;
use Laravel\Pulse\Pulse;
use ReverbRs\ConfigException;
use ReverbRs\Laravel\ApplicationManager;
use ReverbRs\Laravel\Events;
use ReverbRs\Laravel\Pulse\CountersRead;
use ReverbRs\Laravel\ServedApps;
use ReverbRs\Server;
use ReverbRs\ServerException;
use Throwable;

/**
 * `php artisan reverb:start`: runs the server in this process until SIGINT, SIGTERM, SIGTSTP
 * or `reverb:restart`, with the apps of the app provider (`apps.provider`), read again every
 * `apps.reload_interval` and on `reverb:apps:reload`, or looked up as clients ask for them
 * (`apps.lookup.enabled`); it turns engine events into Laravel events when asked to, and feeds
 * Laravel Pulse when it is installed.
 */
final class StartCommand extends Command
{
    /** The cache key `reverb:restart` writes, shared with laravel/reverb. */
    public const RESTART_KEY = 'laravel:reverb:restart';

    /** The cache key `reverb:apps:reload` writes. */
    public const APPS_RELOAD_KEY = 'reverb-rs:apps:reload';

    /** How often the restart and reload keys are read, in seconds. */
    public const SIGNAL_CHECK_SECONDS = 5;

    /** How many apps the banner lists by name. */
    private const BANNER_APPS = 10;

    /** @var string */
    protected $signature = 'reverb:start
        {--host= : The IP address the server should bind to}
        {--port= : The port the server should listen on}
        {--path= : The path the server should prefix to all routes}
        {--hostname= : The hostname the server is accessible from}
        {--debug : Print every message received and sent}';

    /** @var string */
    protected $description = 'Start the Reverb server';

    /** Engine event types and the Laravel events they become. */
    private const EVENTS = [
        'message_received' => Events\MessageReceived::class,
        'message_sent' => Events\MessageSent::class,
        'channel_created' => Events\ChannelCreated::class,
        'channel_removed' => Events\ChannelRemoved::class,
        'connection_pruned' => Events\ConnectionPruned::class,
        'connection_opened' => Events\ConnectionOpened::class,
        'connection_closed' => Events\ConnectionClosed::class,
        'subscribed' => Events\Subscribed::class,
        'unsubscribed' => Events\Unsubscribed::class,
    ];

    /** Webhook event names and the Laravel events they become. */
    private const WEBHOOK_EVENTS = [
        'channel_occupied' => Events\ChannelOccupied::class,
        'channel_vacated' => Events\ChannelVacated::class,
        'member_added' => Events\MemberAdded::class,
        'member_removed' => Events\MemberRemoved::class,
        'client_event' => Events\ClientEvent::class,
        'cache_miss' => Events\CacheMiss::class,
        'subscription_count' => Events\SubscriptionCount::class,
    ];

    private bool $stopping = false;

    /** The apps served, read from the app provider by serverConfig(). */
    private ?ServedApps $apps = null;

    /** The running server, which answers the engine's app lookups. */
    private ?Server $server = null;

    /**
     * Which configuration the Redis for scaling came from, for the banner.
     */
    private string $redisConnection = '';

    public function handle(): int
    {
        if (!extension_loaded('reverb_rs')) {
            $this->error('The reverb_rs PHP extension is not loaded.');
            $this->line('Build and install it (phpize && ./configure && make && make install, then enable it');
            $this->line('with an ini file: extension=reverb_rs.so), or run: php -d extension=/path/to/reverb_rs.so artisan reverb:start');
            return self::FAILURE;
        }

        try {
            $config = $this->serverConfig();
        } catch (InvalidArgumentException $e) {
            $this->error("Invalid Reverb configuration (config/reverb.php): apps.provider: {$e->getMessage()}");
            return self::FAILURE;
        }
        if (!$this->apps->fromConfigFile() && !method_exists(Server::class, 'setApps')) {
            $this->error('This reverb_rs extension cannot change its apps while it serves (ReverbRs\Server::setApps is missing), which apps.provider other than "config" needs.');
            $this->line('Build and install the extension of the same reverb-rs release as this package.');
            return self::FAILURE;
        }
        $name = $config['default'] ?? 'reverb';
        $options = $config['servers'][$name];
        $server = $this->newServer($config);
        if ($server === null) {
            return self::FAILURE;
        }

        $limits = $this->raiseOpenFileLimit();
        try {
            $server->start();
        } catch (ServerException $e) {
            $this->error($e->getMessage());
            $this->line(match (true) {
                str_contains($e->getMessage(), 'could not use Redis') => "The Redis settings come from {$this->redisConnection} (config/reverb.php or config/database.php, REDIS_* in .env).",
                str_contains($e->getMessage(), 'for metrics') => 'Is another process already listening there? Use REVERB_METRICS_HOST and REVERB_METRICS_PORT.',
                default => "Is another server already listening on port {$options['port']}? Use --port or REVERB_SERVER_PORT.",
            });
            return self::FAILURE;
        }
        $this->laravel->instance(Server::class, $server);
        $this->server = $server;
        $reloadInterval = $this->apps->fromConfigFile() ? 0 : max(0, (int) $config['apps']['reload_interval']);
        $this->banner($server, $options, $this->apps->serving(), $limits, $reloadInterval);

        $this->listenForSignals();
        $restartSignal = $this->signal(self::RESTART_KEY);
        $reloadSignal = $this->signal(self::APPS_RELOAD_KEY);
        $nextSignalCheck = microtime(true) + self::SIGNAL_CHECK_SECONDS;
        $nextReload = $reloadInterval > 0 ? microtime(true) + $reloadInterval : INF;
        $dispatch = (bool) ($options['dispatch_events'] ?? false);
        $pulseInterval = $this->laravel->bound(Pulse::class)
            ? max(1, (int) ($options['pulse_ingest_interval'] ?? 15))
            : null;
        $nextPulseIngest = $pulseInterval === null ? INF : microtime(true) + $pulseInterval;

        while (!$this->stopping) {
            $next = min($nextSignalCheck, $nextPulseIngest, $nextReload);
            $timeoutMs = (int) max(0, min(1000, ($next - microtime(true)) * 1000));
            if ($server->wait($timeoutMs) === 1) {
                $this->handleEvents($server->drain(), $dispatch);
            }
            if (microtime(true) >= $nextPulseIngest) {
                $nextPulseIngest = microtime(true) + $pulseInterval;
                $this->feedPulse($server);
            }
            $reload = microtime(true) >= $nextReload;
            if (microtime(true) >= $nextSignalCheck) {
                $nextSignalCheck = microtime(true) + self::SIGNAL_CHECK_SECONDS;
                if ($this->signal(self::RESTART_KEY) !== $restartSignal) {
                    $this->status('Restart signal received.');
                    break;
                }
                $signal = $this->signal(self::APPS_RELOAD_KEY);
                $reload = $reload || $signal !== $reloadSignal;
                if ($signal !== $reloadSignal && $this->apps->fromConfigFile()) {
                    $this->warn('reverb:apps:reload: the apps come from config/reverb.php, which is read when the server starts; reverb:restart applies a change to it.');
                }
                $reloadSignal = $signal;
            }
            if ($reload && !$this->apps->fromConfigFile()) {
                $nextReload = $reloadInterval > 0 ? microtime(true) + $reloadInterval : INF;
                $this->reloadApps($server);
            }
        }

        $this->status('Gracefully terminating connections.');
        if ($pulseInterval !== null) {
            $this->feedPulse($server);
        }
        $server->stop();
        return self::SUCCESS;
    }

    /**
     * What Reverb's server loop does every `pulse_ingest_interval`: `Pulse::ingest()`, after
     * handing the engine's counters to the Pulse recorders (CountersRead).
     */
    private function feedPulse(Server $server): void
    {
        event(new CountersRead($server->stats(), time()));
        $this->laravel->make(Pulse::class)->ingest();
    }

    /**
     * config('reverb') with the command-line options applied and the app provider's apps in
     * `apps.apps`.
     *
     * @throws InvalidArgumentException when `apps.provider` names no provider
     */
    private function serverConfig(): array
    {
        $config = (array) $this->laravel['config']->get('reverb', []);
        $name = $config['default'] ?? 'reverb';
        $server = $config['servers'][$name] ?? [];
        foreach (['host', 'port', 'path', 'hostname'] as $option) {
            if ($this->option($option) !== null) {
                $server[$option] = $this->option($option);
            }
        }
        $server['host'] ??= '0.0.0.0';
        $server['port'] ??= 8080;
        $server['report_sent_messages'] = $this->option('debug') || ($server['dispatch_events'] ?? false);
        $server['report_received_messages'] = $server['report_sent_messages'];
        if (empty($server['options']['tls']['local_cert']) && !empty($server['hostname'])) {
            $certificate = $this->localCertificate((string) $server['hostname']);
            if ($certificate !== null) {
                $server['options']['tls']['local_cert'] = "{$certificate}.crt";
                $server['options']['tls']['local_pk'] = "{$certificate}.key";
            }
        }
        if (filter_var($server['scaling']['enabled'] ?? false, FILTER_VALIDATE_BOOLEAN)) {
            $server['scaling'] = $this->scalingConfig((array) $server['scaling']);
        }
        if (!array_key_exists('metrics', $server)) {
            $server['metrics'] = self::metricsFromEnv();
        }
        $config['servers'][$name] = $server;
        $config['apps'] = $this->appsConfig((array) ($config['apps'] ?? []));

        return $this->webhooksFromEnv($config, $name);
    }

    /**
     * The `apps` block with the app provider's apps in `apps` (none when they are looked up on
     * demand), and `reload_interval` and `lookup` completed from `REVERB_APPS_RELOAD_INTERVAL`
     * and `REVERB_APPS_LOOKUP*` for a config/reverb.php published without them.
     */
    private function appsConfig(array $apps): array
    {
        if (!array_key_exists('reload_interval', $apps)) {
            $apps['reload_interval'] = env('REVERB_APPS_RELOAD_INTERVAL', 60);
        }
        if (!array_key_exists('lookup', $apps)) {
            $apps['lookup'] = [
                'enabled' => env('REVERB_APPS_LOOKUP', false),
                'cache_ttl' => env('REVERB_APPS_LOOKUP_CACHE_TTL', 300),
                'negative_ttl' => env('REVERB_APPS_LOOKUP_NEGATIVE_TTL', 30),
                'timeout' => env('REVERB_APPS_LOOKUP_TIMEOUT', 2),
            ];
        }
        $manager = $this->laravel->make(ApplicationManager::class);
        $this->apps = new ServedApps(
            $manager->driver(),
            $manager->source(),
            filter_var($apps['lookup']['enabled'] ?? false, FILTER_VALIDATE_BOOLEAN),
            fn (string $message) => $this->warn($message)
        );
        $apps['apps'] = $this->apps->load();

        return $apps;
    }

    /**
     * The server for `$config`. An app entry it refuses stops the start when it comes from
     * config/reverb.php; from another provider it is reported and the server is made without it.
     */
    private function newServer(array $config): ?Server
    {
        for (;;) {
            try {
                return new Server($config);
            } catch (ConfigException $e) {
                $entry = preg_match('/^apps\.apps\.(\d+)/', $e->getMessage(), $match) === 1 ? (int) $match[1] : null;
                $lenient = !$this->apps->fromConfigFile() && $entry !== null;
                if (!$lenient || !$this->apps->refuse($entry, $e->getMessage())) {
                    $this->error("Invalid Reverb configuration (config/reverb.php): {$e->getMessage()}");
                    if (!$this->apps->fromConfigFile()) {
                        $served = count($this->apps->serving());
                        $this->line("The apps come from apps.provider ({$this->apps->source()}): {$served} of them can be served.");
                    }
                    return null;
                }
                $config['apps']['apps'] = $this->apps->serving();
            }
        }
    }

    /**
     * Reads the apps again and pushes what changed to the server, printing the status line
     * (and, through ServedApps, a warning for each faulty or refused entry).
     */
    private function reloadApps(Server $server): void
    {
        $summary = $this->apps->reload(fn (array $apps): array => $server->setApps($apps));
        if ($summary !== null) {
            $this->status("{$summary}.");
        }
    }

    /**
     * The `metrics` block from `REVERB_METRICS_ENABLED`, `REVERB_METRICS_HOST` and
     * `REVERB_METRICS_PORT`, for a config/reverb.php published without it.
     */
    private static function metricsFromEnv(): array
    {
        return [
            'enabled' => env('REVERB_METRICS_ENABLED', false),
            'host' => env('REVERB_METRICS_HOST', '127.0.0.1'),
            'port' => env('REVERB_METRICS_PORT', 9601),
        ];
    }

    /**
     * `REVERB_WEBHOOK_EVENTS` and `REVERB_WEBHOOK_URL` for a config/reverb.php published without
     * the webhook keys (laravel/reverb's, say): each fills its key only where the key is absent,
     * the URL on the app of config/reverb.php whose key is `REVERB_APP_KEY`, else on its first
     * app (the apps of another provider have their own webhooks).
     */
    private function webhooksFromEnv(array $config, string $name): array
    {
        $events = env('REVERB_WEBHOOK_EVENTS');
        $webhooks = $config['servers'][$name]['webhooks'] ?? [];
        if ($events !== null && is_array($webhooks) && !array_key_exists('dispatch_events', $webhooks)) {
            $config['servers'][$name]['webhooks']['dispatch_events'] = $events;
        }
        $url = env('REVERB_WEBHOOK_URL');
        $apps = $this->apps->fromConfigFile() ? (array) ($config['apps']['apps'] ?? []) : [];
        $named = array_filter($apps, fn ($app) => ($app['key'] ?? null) === env('REVERB_APP_KEY'));
        $index = array_key_first($named) ?? array_key_first($apps);
        if ($url && is_array($apps[$index] ?? null) && !array_key_exists('webhooks', $apps[$index])) {
            $config['apps']['apps'][$index]['webhooks'] = [['url' => $url]];
        }

        return $config;
    }

    /**
     * `scaling` completed the way Reverb does: without its own `server` settings it uses
     * the app's default Redis connection (or, for an app on a Redis Cluster, the first node of
     * its default cluster); every key and channel gets Laravel's Redis prefix. `REDIS_SCHEME`,
     * `REDIS_TLS_CAFILE`, `REDIS_TLS_VERIFY_PEER` and `REVERB_SCALING_CLUSTER` fill their keys in
     * a config/reverb.php published without them (laravel/reverb's, say).
     */
    private function scalingConfig(array $scaling): array
    {
        $config = $this->laravel['config'];
        $given = (array) ($scaling['server'] ?? []);
        $server = self::filled($given);
        $this->redisConnection = 'servers.reverb.scaling.server';
        if (self::filled($server, ['tls', 'cluster', 'timeout', 'scheme']) === []) {
            [$this->redisConnection, $fallback] = self::defaultRedisConnection((array) $config->get('database.redis', []));
            $server = array_replace(self::filled($fallback), $server);
        }
        $fromEnv = [
            'scheme' => env('REDIS_SCHEME'),
            'cluster' => env('REVERB_SCALING_CLUSTER'),
            'tls' => self::filled(['cafile' => env('REDIS_TLS_CAFILE'), 'verify_peer' => env('REDIS_TLS_VERIFY_PEER')]),
        ];
        foreach (self::filled($fromEnv) as $key => $value) {
            if (!array_key_exists($key, $given) && !array_key_exists($key, $server)) {
                $server[$key] = $value;
            }
        }
        $scaling['server'] = $server;
        $scaling['prefix'] ??= (string) $config->get('database.redis.options.prefix', '');

        return $scaling;
    }

    /**
     * The app's own Redis connection for scaling, and its name: `database.redis.default`, or the
     * first node of `database.redis.clusters.default` in cluster mode.
     *
     * @return array{0: string, 1: array}
     */
    private static function defaultRedisConnection(array $redis): array
    {
        if (is_array($redis['default'] ?? null) && self::filled($redis['default']) !== []) {
            return ['database.redis.default', $redis['default']];
        }
        $nodes = $redis['clusters']['default'] ?? null;
        if (is_array($nodes) && is_array(reset($nodes))) {
            return ['database.redis.clusters.default', reset($nodes) + ['cluster' => true]];
        }

        return ['database.redis.default', []];
    }

    /**
     * `$values` without null and empty entries, nor the keys in `$ignored`.
     */
    private static function filled(array $values, array $ignored = []): array
    {
        return array_filter(
            array_diff_key($values, array_flip($ignored)),
            fn ($value) => $value !== null && $value !== '' && $value !== []
        );
    }

    /**
     * Where Redis is, as a URL without its password, for the banner.
     */
    private static function redisLocation(array $redis): string
    {
        if (!empty($redis['url'])) {
            $url = (array) parse_url((string) $redis['url']);
            $redis = array_filter([
                'scheme' => $url['scheme'] ?? null,
                'host' => $url['host'] ?? null,
                'port' => $url['port'] ?? null,
                'username' => isset($url['user']) ? urldecode($url['user']) : null,
                'database' => isset($url['path']) ? ltrim($url['path'], '/') : null,
            ]) + $redis;
        }
        $tls = in_array($redis['scheme'] ?? '', ['tls', 'rediss', 'valkeys'], true);
        $user = empty($redis['username']) ? '' : "{$redis['username']}@";

        return sprintf(
            '%s://%s%s:%s/%s',
            $tls ? 'rediss' : 'redis',
            $user,
            $redis['host'] ?? '127.0.0.1',
            $redis['port'] ?? 6379,
            $redis['database'] ?? 0
        );
    }

    /**
     * The Herd or Valet certificate for `$hostname` (without extension), as Reverb finds it
     * when no certificate is configured.
     */
    private function localCertificate(string $hostname): ?string
    {
        $home = (string) (getenv('HOME') ?: ($_SERVER['HOME'] ?? ''));
        foreach (
            [
            "{$home}/Library/Application Support/Herd/config/valet/Certificates",
            "{$home}/.config/herd/config/valet/Certificates",
            "{$home}/.config/valet/Certificates",
            "{$home}/.valet/Certificates",
            ] as $directory
        ) {
            $base = "{$directory}/{$hostname}";
            if ($home !== '' && is_file("{$base}.crt") && is_file("{$base}.key")) {
                return $base;
            }
        }
        return null;
    }

    /**
     * Raises the soft open-file limit to the hard limit, since every socket is a file.
     *
     * @return array{soft: int|string, hard: int|string}
     */
    private function raiseOpenFileLimit(): array
    {
        if (!function_exists('posix_getrlimit')) {
            return ['soft' => 'unknown', 'hard' => 'unknown'];
        }
        $limits = posix_getrlimit();
        $hard = $limits['hard openfiles'];
        if (function_exists('posix_setrlimit') && $hard !== 'unlimited') {
            @posix_setrlimit(POSIX_RLIMIT_NOFILE, (int) $hard, (int) $hard);
        }
        $limits = posix_getrlimit();

        return ['soft' => $limits['soft openfiles'], 'hard' => $limits['hard openfiles']];
    }

    /**
     * What the server serves: its address, the apps (the first few by name) and where they
     * come from, the open file limit, metrics and scaling.
     */
    private function banner(Server $server, array $options, array $apps, array $limits, int $reloadInterval): void
    {
        $path = $options['path'] ?? '';
        $hostname = $options['hostname'] ?? null;
        $tls = $options['options']['tls']['local_cert'] ?? null;
        $this->status(sprintf(
            'Starting %sserver on %s:%d%s%s.',
            $tls ? 'secure ' : '',
            $options['host'],
            $server->port(),
            $path,
            $hostname ? " ({$hostname})" : ''
        ));
        if ($tls) {
            $this->line("  Certificate: {$tls}");
        }
        if ($hostname) {
            $scheme = $tls ? 'wss' : 'ws';
            $this->line("  Clients connect to {$scheme}://{$hostname}:{$server->port()}{$path}/app/{key}");
        }
        foreach (array_slice($apps, 0, self::BANNER_APPS) as $app) {
            $this->line(sprintf('  App %s (key %s)', $app['app_id'] ?? '?', $app['key'] ?? '?'));
        }
        if (count($apps) > self::BANNER_APPS) {
            $this->line(sprintf('  … and %d more apps', count($apps) - self::BANNER_APPS));
        }
        if ($this->apps->onDemand()) {
            $this->line("  Apps looked up as clients ask for them ({$this->apps->source()})");
        }
        if (!$this->apps->fromConfigFile()) {
            $this->line(sprintf(
                '  Apps read again %sby reverb:apps:reload',
                $reloadInterval > 0 ? "every {$reloadInterval} s and " : ''
            ));
        }
        $this->line("  Open file limit: {$limits['soft']} (hard limit {$limits['hard']})");
        if (filter_var($options['metrics']['enabled'] ?? false, FILTER_VALIDATE_BOOLEAN)) {
            $this->line(sprintf(
                '  Prometheus metrics on http://%s:%s/metrics',
                $options['metrics']['host'] ?? '127.0.0.1',
                $options['metrics']['port'] ?? 9601
            ));
        }
        if (filter_var($options['scaling']['enabled'] ?? false, FILTER_VALIDATE_BOOLEAN)) {
            $redis = (array) ($options['scaling']['server'] ?? []);
            $this->line(sprintf(
                '  Scaling over Redis %s (%s%s), channel "%s%s"',
                self::redisLocation($redis),
                $this->redisConnection,
                filter_var($redis['cluster'] ?? false, FILTER_VALIDATE_BOOLEAN) ? ', cluster mode' : '',
                $options['scaling']['prefix'] ?? '',
                $options['scaling']['channel'] ?? 'reverb'
            ));
        }
        $wanted = array_sum(array_map(fn ($app) => (int) ($app['max_connections'] ?? 0), $apps));
        if (is_numeric($limits['soft']) && $wanted > 0 && $wanted + 100 > (int) $limits['soft']) {
            $this->warn("  The open file limit is below what max_connections ({$wanted}) needs; raise it (ulimit -n, LimitNOFILE, minfds).");
        }
    }

    private function listenForSignals(): void
    {
        if (!function_exists('pcntl_async_signals')) {
            return;
        }
        pcntl_async_signals(true);
        foreach ([SIGINT, SIGTERM, SIGTSTP] as $signal) {
            pcntl_signal($signal, function (): void {
                $this->stopping = true;
            });
        }
    }

    /**
     * The value `reverb:restart` or `reverb:apps:reload` last wrote under `$key`, or null when
     * the cache cannot be read.
     */
    private function signal(string $key): mixed
    {
        try {
            return $this->laravel->make(Cache::class)->get($key);
        } catch (Throwable $e) {
            static $warned = false;
            if (!$warned) {
                $warned = true;
                $this->warn("The default cache store cannot be read, so reverb:restart and reverb:apps:reload cannot reach this server: {$e->getMessage()}");
            }
            return null;
        }
    }

    /** @param array<int, array<string, mixed>> $events */
    private function handleEvents(array $events, bool $dispatch): void
    {
        foreach ($events as $event) {
            if ($event['type'] === 'app_lookup') {
                $answer = fn (int $lookup, ?array $app): ?string => $this->server->answerAppLookup($lookup, $app);
                $this->apps->answer($event, $answer);
                continue;
            }
            if ($event['type'] === 'scaling_connected') {
                $this->status("Connected to Redis: sharing work with the other nodes as node {$event['node']}.");
            } elseif ($event['type'] === 'scaling_disconnected') {
                $this->warn("Lost Redis ({$event['error']}): serving this node's connections only, retrying.");
            } elseif ($event['type'] === 'webhook_failing') {
                $this->warn(sprintf(
                    'Webhook %s of app %s is failing (%s): retrying.',
                    $event['url'],
                    $event['app_id'],
                    $event['error']
                ));
            } elseif ($this->option('debug')) {
                $this->debugLine($event);
            }
            // The engine reports webhook events only when webhooks.dispatch_events is on.
            $class = $event['type'] === 'webhook'
                ? (self::WEBHOOK_EVENTS[$event['name']] ?? null)
                : ($dispatch ? (self::EVENTS[$event['type']] ?? null) : null);
            if ($class !== null) {
                event($class::fromEngine($event));
            }
        }
    }

    private function debugLine(array $event): void
    {
        if ($event['type'] === 'webhook') {
            $fields = json_encode(
                array_diff_key($event, array_flip(['type', 'app_id', 'name'])),
                JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE
            );
            $this->line(sprintf('Webhook %s %s', $event['name'], self::shorten((string) $fields)));
            return;
        }
        $direction = match ($event['type']) {
            'message_received' => 'Message Received',
            'message_sent' => 'Message Sent',
            default => null,
        };
        if ($direction === null) {
            $this->line(sprintf('%s %s %s', $event['type'], $event['socket_id'] ?? '', $event['channel'] ?? ''));
            return;
        }
        $message = self::shorten((string) $event['message']);
        $this->line(sprintf('%s [%s] %s', $direction, $event['socket_id'], $message));
    }

    /** The first 200 bytes of a message, so that a debug line stays short. */
    private static function shorten(string $message): string
    {
        return strlen($message) > 200 ? substr($message, 0, 200) . '…' : $message;
    }

    /** Laravel 9+'s styled output where it exists, plain lines on Laravel 8. */
    private function status(string $message): void
    {
        if (property_exists($this, 'components') && isset($this->components)) {
            $this->components->info($message);
            return;
        }
        $this->info($message);
    }
}
