<?php

declare(strict_types=1);

namespace ReverbRs\Laravel\Providers;

use ReverbRs\Laravel\Contracts\ApplicationProvider;

/**
 * The `config` app provider, the default: the entries of `reverb.apps.apps` as they are, read
 * once when the application boots, as laravel/reverb reads them.
 */
final class ConfigApplicationProvider implements ApplicationProvider
{
    /** @param array<int|string, mixed> $apps the entries of `reverb.apps.apps` */
    public function __construct(private array $apps)
    {
    }

    /** Every entry, in the order config/reverb.php lists them. */
    public function all(): iterable
    {
        return array_values($this->apps);
    }

    /** The entry whose `app_id` is `$id` (compared as strings: ids from .env may be integers). */
    public function findById(string $id): ?array
    {
        return $this->find('app_id', $id);
    }

    /** The entry whose `key` is `$key`. */
    public function findByKey(string $key): ?array
    {
        return $this->find('key', $key);
    }

    private function find(string $field, string $value): ?array
    {
        foreach ($this->apps as $app) {
            if (is_array($app) && isset($app[$field]) && (string) $app[$field] === $value) {
                return $app;
            }
        }

        return null;
    }
}
