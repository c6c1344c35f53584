<?php

declare(strict_types=1);

namespace ReverbRs\Laravel\Pulse;

/**
 * Dispatched by `reverb:start`, when Laravel Pulse is installed, every `pulse_ingest_interval`
 * seconds just before it calls `Pulse::ingest()`: the engine's counters, from which the Reverb
 * messages recorder records what happened since the last time, so that no PHP event per
 * message is needed.
 */
final class CountersRead
{
    /**
     * @param array<string, array<string, mixed>> $stats `ReverbRs\Server::stats()`, by app id
     * @param int $timestamp when they were read (Unix time)
     */
    public function __construct(
        public readonly array $stats,
        public readonly int $timestamp,
    ) {
    }
}
