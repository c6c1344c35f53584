<?php

declare(strict_types=1);

namespace ReverbRs\Tests\Laravel;

use Illuminate\Config\Repository;
use Illuminate\Container\Container;
use Illuminate\Support\Collection;
use InvalidArgumentException;
use Laravel\Reverb\Application as ReverbApplication;
use Laravel\Reverb\Contracts\ApplicationProvider as ReverbProvider;
use Laravel\Reverb\Exceptions\InvalidApplication;
use PHPUnit\Framework\TestCase;
use ReverbRs\Laravel\ApplicationManager;
use ReverbRs\Laravel\Providers\ReverbProviderAdapter;
use RuntimeException;

/**
 * A provider written for laravel/reverb, with Reverb's contract, Application and
 * InvalidApplication (which reverb-rs provides under their names), served through
 * ReverbProviderAdapter.
 */
final class ReverbProviderAdapterTest extends TestCase
{
    public function testTheAdapterServesALaravelReverbProviderWithEveryLimitItsAppsHave(): void
    {
        $adapter = new ReverbProviderAdapter(self::reverbProvider([
            new ReverbApplication(
                'a',
                'key-a',
                'secret-a',
                60,
                30,
                ['*.shop.test'],
                10_000,
                100,
                'all',
                ['enabled' => true, 'max_attempts' => 5],
                ['host' => 'ws.shop.test'],
            ),
            new ReverbApplication('b', 'key-b', 'secret-b', 20, 10, ['*'], 5_000),
        ]));

        $this->assertSame([
            [
                'app_id' => 'a', 'key' => 'key-a', 'secret' => 'secret-a', 'ping_interval' => 60,
                'activity_timeout' => 30, 'allowed_origins' => ['*.shop.test'], 'max_message_size' => 10_000,
                'max_connections' => 100, 'accept_client_events_from' => 'all', 'options' => ['host' => 'ws.shop.test'],
                'rate_limiting' => ['enabled' => true, 'max_attempts' => 5],
            ],
            [
                'app_id' => 'b', 'key' => 'key-b', 'secret' => 'secret-b', 'ping_interval' => 20,
                'activity_timeout' => 10, 'allowed_origins' => ['*'], 'max_message_size' => 5_000,
                'max_connections' => null, 'accept_client_events_from' => 'members', 'options' => [],
            ],
        ], [...$adapter->all()]);
        $this->assertSame('b', $adapter->findByKey('key-b')['app_id']);
        $this->assertSame('key-a', $adapter->findById('a')['key']);
    }

    public function testTheAdapterReadsInvalidApplicationAsNoSuchAppAndLetsOtherErrorsThrough(): void
    {
        $adapter = new ReverbProviderAdapter(self::reverbProvider([]));

        $this->assertNull($adapter->findById('nobody'));
        $this->assertNull($adapter->findByKey('nobody'));
        $this->expectExceptionMessage('database is away');
        (new ReverbProviderAdapter(self::reverbProvider([], new RuntimeException('database is away'))))->findById('a');
    }

    public function testSomethingElseThanAProviderIsRefusedPointingToTheAdapter(): void
    {
        $app = new Container();
        $app->instance('config', new Repository());
        $manager = new ApplicationManager($app);
        $manager->extend('reverb', fn () => self::reverbProvider([]));

        $this->expectException(InvalidArgumentException::class);
        $this->expectExceptionMessageMatches('/The app provider \[reverb\] is a .+, which does not implement '
            . 'ReverbRs\\\\Laravel\\\\Contracts\\\\ApplicationProvider \(wrap a laravel\/reverb provider in .+ReverbProviderAdapter\)/');

        $manager->driver('reverb');
    }

    /**
     * A provider written for laravel/reverb, over `$apps`, whose lookups throw `$failure` if
     * given, else InvalidApplication for an unknown app.
     *
     * @param list<ReverbApplication> $apps
     */
    private static function reverbProvider(array $apps, ?RuntimeException $failure = null): ReverbProvider
    {
        return new class ($apps, $failure) implements ReverbProvider {
            public function __construct(private array $apps, private ?RuntimeException $failure)
            {
            }

            public function all(): Collection
            {
                return collect($this->apps);
            }

            public function findById(string $id): ReverbApplication
            {
                return $this->find(fn (ReverbApplication $app) => $app->id() === $id);
            }

            public function findByKey(string $key): ReverbApplication
            {
                return $this->find(fn (ReverbApplication $app) => $app->key() === $key);
            }

            private function find(callable $matches): ReverbApplication
            {
                if ($this->failure !== null) {
                    throw $this->failure;
                }
                return collect($this->apps)->first($matches) ?? throw new InvalidApplication();
            }
        };
    }
}
