<?php

declare(strict_types=1);

namespace Laravel\Reverb\Pulse\Recorders;

use Laravel\Pulse\Pulse;
use ReverbRs\Laravel\Pulse\CountersRead;
use ReverbRs\Laravel\Pulse\MessageCounter;

/**
 * The Pulse recorder of the "Reverb Messages" card, under the name a config/pulse.php written
 * for laravel/reverb lists. It records `reverb_message:sent` and `reverb_message:received` with
 * the app id as key, into buckets only, as Reverb's does, but from the engine's counters rather
 * than one event per message: every `pulse_ingest_interval`, `reverb:start` hands it the
 * counters and it records each app's messages since the last time as one entry.
 *
 * Pulse's `count` aggregate adds one per entry whatever its value, so a total can only be
 * counted as that many entries: at 100,000 messages a second, 1.5 million objects every 15 s.
 * The entries carry the total and are aggregated as `sum` instead, which Pulse adds up per
 * bucket exactly as it adds up a `count`; the Messages card reads both aggregates. The figures
 * are exact, so `sample_rate` is not applied.
 */
final class ReverbMessages
{
    /** Pulse calls record() when `reverb:start` has read the engine's counters. */
    public string $listen = CountersRead::class;

    private MessageCounter $counter;

    public function __construct(private Pulse $pulse)
    {
        $this->counter = new MessageCounter();
    }

    /** Records each app's messages sent and received since the previous reading. */
    public function record(CountersRead $event): void
    {
        foreach ($this->counter->since($event->stats) as $appId => $counts) {
            foreach ($counts as $direction => $count) {
                if ($count > 0) {
                    $this->pulse->record(
                        type: "reverb_message:{$direction}",
                        key: (string) $appId,
                        value: $count,
                        timestamp: $event->timestamp,
                    )->sum()->onlyBuckets();
                }
            }
        }
    }
}
