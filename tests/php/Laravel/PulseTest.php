<?php

declare(strict_types=1);

namespace ReverbRs\Tests\Laravel;

use Laravel\Reverb\Pulse\Recorders\ReverbConnections;
use Laravel\Reverb\Pulse\Recorders\ReverbMessages;
use PHPUnit\Framework\TestCase;
use ReflectionProperty;
use ReverbRs\Laravel\Pulse\CountersRead;
use ReverbRs\Laravel\Pulse\MessageCounter;

/**
 * The Laravel Pulse support, without Pulse installed: the messages since the last reading of
 * the engine's counters, and the recorders' events.
 */
final class PulseTest extends TestCase
{
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

    public function testTheRecordersLoadWithoutPulseAndListenWhereReverbsDo(): void
    {
        $listens = fn (string $class) => (new ReflectionProperty($class, 'listen'))->getDefaultValue();

        $this->assertSame('Laravel\Pulse\Events\IsolatedBeat', $listens(ReverbConnections::class));
        $this->assertSame(CountersRead::class, $listens(ReverbMessages::class));
    }
}
