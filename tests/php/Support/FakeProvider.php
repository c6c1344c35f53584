<?php

declare(strict_types=1);

namespace ReverbRs\Tests\Support;

use ReverbRs\Laravel\Contracts\ApplicationProvider;
use ReverbRs\Laravel\Exceptions\InvalidApp;
use RuntimeException;

/**
 * An app provider over a list the test changes as it goes: entries (arrays or InvalidApps), a
 * failure after some entries, lookups that fail, and a log of the calls.
 */
final class FakeProvider implements ApplicationProvider
{
    /** @var list<array<string, mixed>|InvalidApp> */
    public array $apps = [];

    /** Entries all() gives before it throws; null: it does not throw. */
    public ?int $failAfter = null;

    /** Whether findById() and findByKey() throw. */
    public bool $lookupsFail = false;

    /** @var list<string> the calls made, e.g. "findById shop-1" */
    public array $calls = [];

    /** @param list<array<string, mixed>|InvalidApp> $apps */
    public function __construct(array $apps = [])
    {
        $this->apps = $apps;
    }

    /** The entries, up to the failure. */
    public function all(): iterable
    {
        $this->calls[] = 'all';
        foreach ($this->apps as $index => $app) {
            if ($index === $this->failAfter) {
                throw new RuntimeException('connection lost');
            }
            yield $app;
        }
    }

    /** The entry with this app_id; an InvalidApp for that id is thrown. */
    public function findById(string $id): ?array
    {
        $this->calls[] = "findById {$id}";
        return $this->find(fn ($app) => is_array($app) ? (string) $app['app_id'] === $id : $app->appId === $id);
    }

    /** The entry with this key. */
    public function findByKey(string $key): ?array
    {
        $this->calls[] = "findByKey {$key}";
        return $this->find(fn ($app) => is_array($app) && $app['key'] === $key);
    }

    private function find(callable $matches): ?array
    {
        if ($this->lookupsFail) {
            throw new RuntimeException('database is away');
        }
        foreach ($this->apps as $app) {
            if ($matches($app)) {
                if ($app instanceof InvalidApp) {
                    throw $app;
                }
                return $app;
            }
        }

        return null;
    }
}
