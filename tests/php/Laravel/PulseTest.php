<?php

declare(strict_types=1);

namespace ReverbRs\Tests\Laravel;

use Illuminate\Config\Repository;
use Illuminate\Container\Container;
use Illuminate\Foundation\Application;
use Illuminate\Support\Collection;
use Laravel\Reverb\Pulse\Livewire\Connections;
use Laravel\Reverb\Pulse\Livewire\Messages;
use Laravel\Reverb\Pulse\Recorders\ReverbConnections;
use Laravel\Reverb\Pulse\Recorders\ReverbMessages;
use PHPUnit\Framework\TestCase;
use ReflectionProperty;
use ReverbRs\Laravel\Pulse\CountersRead;
use ReverbRs\Laravel\Pulse\MessageCounter;
use ReverbRs\Laravel\Pulse\MessageReadings;
use ReverbRs\Laravel\ReverbServiceProvider;

/**
 * The Laravel Pulse support, without Pulse installed: the messages since the last reading of
 * the engine's counters, the readings the Messages card plots, the recorders' events, and the
 * cards registered only when Pulse is there.
 */
final class PulseTest extends TestCase
{
    protected function tearDown(): void
    {
        Container::setInstance(null);
    }

    private static function stats(int $in, int $out, string $app = 'app-1'): array
    {
        return [$app => ['connections' => 2, 'channels' => 1, 'messages_in' => $in, 'messages_out' => $out]];
    }

    public function testTheFirstReadingCountsFromTheServersStartAndLaterOnesFromThePrevious(): void
    {
        $counter = new MessageCounter();

        $this->assertSame(['app-1' => ['received' => 5, 'sent' => 12]], $counter->since(self::stats(5, 12)));
        $this->assertSame(['app-1' => ['received' => 3, 'sent' => 0]], $counter->since(self::stats(8, 12)));
        $this->assertSame([], $counter->since(self::stats(8, 12)), 'an app without new messages is left out');
    }

    public function testEachAppIsCountedOnItsOwn(): void
    {
        $counter = new MessageCounter();
        $counter->since(self::stats(1, 1) + self::stats(10, 10, '42'));

        $this->assertSame(
            ['42' => ['received' => 0, 'sent' => 5]],
            $counter->since(self::stats(1, 1) + self::stats(10, 15, '42'))
        );
    }

    public function testATotalBelowThePreviousIsANewServersAndAllNew(): void
    {
        $counter = new MessageCounter();
        $counter->since(self::stats(100, 100));

        $this->assertSame(['app-1' => ['received' => 4, 'sent' => 7]], $counter->since(self::stats(4, 7)));
    }

    public function testTheCardAddsTheSumReadingsToTheCountReadingsBucketByBucket(): void
    {
        $graph = fn (array $readings) => (new Collection($readings))
            ->map(fn ($types) => (new Collection($types))->map(fn ($buckets) => new Collection($buckets)));
        $counted = $graph([
            'app-1' => ['reverb_message:sent' => ['10:00' => 4, '10:01' => null, '10:02' => null]],
            'old' => ['reverb_message:sent' => ['10:00' => 1, '10:01' => null, '10:02' => null]],
        ]);
        $summed = $graph([
            'app-1' => ['reverb_message:sent' => ['10:00' => null, '10:01' => '2.00', '10:02' => null]],
        ]);

        $this->assertEquals([
            'app-1' => ['reverb_message:sent' => ['10:00' => 4, '10:01' => 2.0, '10:02' => null]],
            'old' => ['reverb_message:sent' => ['10:00' => 1, '10:01' => null, '10:02' => null]],
        ], MessageReadings::add($counted, $summed)->toArray());
        $this->assertEquals(
            ['app-1' => ['reverb_message:sent' => ['10:00' => null, '10:01' => 2.0, '10:02' => null]]],
            MessageReadings::add(new Collection(), $summed)->toArray(),
            'an app recorded by reverb-rs only'
        );
    }

    public function testRatesAreMessagesPerUnitForTheBucketLength(): void
    {
        $graph = new Collection(['app-1' => new Collection([
            'reverb_message:sent' => new Collection(['a' => 120, 'b' => null, 'c' => 1]),
        ])]);

        $this->assertSame(
            ['app-1' => ['reverb_message:sent' => ['a' => 2.0, 'b' => null, 'c' => 0.02]]],
            MessageReadings::rates($graph, 60, 1)->toArray(),
            'the 1 hour period: 60 s buckets, per second'
        );
        $this->assertSame(
            ['app-1' => ['reverb_message:sent' => ['a' => 300.0, 'b' => null, 'c' => 2.5]]],
            MessageReadings::rates($graph, 1440, 3600)->toArray(),
            'the 24 hours period: 24 min buckets, per hour'
        );
    }

    public function testTheRecordersLoadWithoutPulseAndListenWhereReverbsDo(): void
    {
        $listens = fn (string $class) => (new ReflectionProperty($class, 'listen'))->getDefaultValue();

        $this->assertSame('Laravel\Pulse\Events\IsolatedBeat', $listens(ReverbConnections::class));
        $this->assertSame(CountersRead::class, $listens(ReverbMessages::class));
    }

    public function testTheCardsAreRegisteredOnlyWhenPulseIs(): void
    {
        $this->assertSame([[], []], $this->bootProvider(withPulse: false));
        $this->assertSame([
            ['reverb.connections' => Connections::class, 'reverb.messages' => Messages::class],
            ['reverb' => realpath(dirname(__DIR__, 3) . '/php/resources/views')],
        ], $this->bootProvider(withPulse: true));
    }

    /**
     * Boots the package's provider in an app with a recording Livewire and view factory:
     * [the Livewire components registered, the view namespaces added].
     */
    private function bootProvider(bool $withPulse): array
    {
        $recorder = new class {
            public array $components = [];
            public array $namespaces = [];

            public function component(string $name, string $class): void
            {
                $this->components[$name] = $class;
            }

            public function addNamespace(string $namespace, string $path): void
            {
                $this->namespaces[$namespace] = realpath($path);
            }
        };
        $app = new Application(sys_get_temp_dir());
        $app->instance('config', new Repository());
        if ($withPulse) {
            $app->instance('Laravel\Pulse\Pulse', new \stdClass());
        }
        $provider = new ReverbServiceProvider($app);
        $provider->register();
        $provider->boot();
        foreach (['livewire', 'view'] as $service) {
            $app->singleton($service, fn () => $recorder);
            $app->make($service);
        }

        return [$recorder->components, $recorder->namespaces];
    }
}
