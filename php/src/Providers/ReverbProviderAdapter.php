<?php

declare(strict_types=1);

namespace ReverbRs\Laravel\Providers;

use ReverbRs\Laravel\Contracts\ApplicationProvider;
use Throwable;

/**
 * An app provider written for laravel/reverb (`Laravel\Reverb\Contracts\ApplicationProvider`,
 * whose methods return `Laravel\Reverb\Application` objects and throw InvalidApplication for
 * an unknown app) used as a reverb-rs one:
 * `$manager->extend('tenants', fn ($app) => new ReverbProviderAdapter(new TenantProvider()))`.
 * It relies only on the methods those objects have, not on laravel/reverb being installed.
 */
final class ReverbProviderAdapter implements ApplicationProvider
{
    /** What to do with a laravel/reverb provider, for the messages about one used as it is. */
    public const HINT = 'wrap a laravel/reverb provider in ' . self::class;

    /** The exception laravel/reverb's providers throw for an app that does not exist. */
    private const NOT_FOUND = 'Laravel\Reverb\Exceptions\InvalidApplication';

    /** @param object $provider a laravel/reverb ApplicationProvider */
    public function __construct(private object $provider)
    {
    }

    /** Every app of the wrapped provider, as app entries. */
    public function all(): iterable
    {
        foreach ($this->provider->all() as $app) {
            yield self::entry($app);
        }
    }

    /** The app with this id, null where the wrapped provider throws InvalidApplication. */
    public function findById(string $id): ?array
    {
        return $this->find(fn () => $this->provider->findById($id));
    }

    /** The app with this key, null where the wrapped provider throws InvalidApplication. */
    public function findByKey(string $key): ?array
    {
        return $this->find(fn () => $this->provider->findByKey($key));
    }

    /**
     * A `Laravel\Reverb\Application` as an app entry. Its toArray() leaves out the connection
     * limit, who may send client events and the rate limits, so the getters are read instead.
     */
    public static function entry(object $app): array
    {
        $entry = [
            'app_id' => $app->id(),
            'key' => $app->key(),
            'secret' => $app->secret(),
            'ping_interval' => $app->pingInterval(),
            'activity_timeout' => $app->activityTimeout(),
            'allowed_origins' => $app->allowedOrigins(),
            'max_message_size' => $app->maxMessageSize(),
            'max_connections' => $app->maxConnections(),
            'accept_client_events_from' => $app->acceptClientEventsFrom(),
            'options' => $app->options() ?? [],
        ];
        if ($app->rateLimiting() !== null) {
            $entry['rate_limiting'] = $app->rateLimiting();
        }

        return $entry;
    }

    private function find(callable $find): ?array
    {
        try {
            return self::entry($find());
        } catch (Throwable $e) {
            if (is_a($e, self::NOT_FOUND)) {
                return null;
            }
            throw $e;
        }
    }
}
