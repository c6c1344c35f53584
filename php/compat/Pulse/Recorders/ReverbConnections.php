<?php

declare(strict_types=1);

namespace Laravel\Reverb\Pulse\Recorders;

use Illuminate\Contracts\Config\Repository;
use Laravel\Pulse\Events\IsolatedBeat;
use Laravel\Pulse\Pulse;
use ReverbRs\Laravel\Contracts\ApplicationProvider;
use ReverbRs\Laravel\Pulse\ConnectionCounter;

/**
 * The Pulse recorder of the "Reverb Connections" card, under the name a config/pulse.php
 * written for laravel/reverb lists. Like Reverb's, it runs where `pulse:check` runs: every
 * 15 s it asks the server's HTTP API how many connections each app of the app provider has
 * (config/reverb.php, the `reverb_apps` table or the application's own; the whole cluster's,
 * with scaling on), and records `reverb_connections` with the app id as key, aggregated as
 * `avg` and `max` into buckets only.
 */
final class ReverbConnections
{
    /** Pulse calls record() on every beat of `pulse:check`, in one process of the cluster. */
    public string $listen = IsolatedBeat::class;

    public function __construct(
        private Pulse $pulse,
        private ApplicationProvider $apps,
        private Repository $config,
        private ConnectionCounter $counter,
    ) {
    }

    /** Records each served app's connections on the beats of second 0, 15, 30 and 45. */
    public function record(IsolatedBeat $event): void
    {
        if ($event->time->second % 15 !== 0) {
            return;
        }
        $server = (array) $this->config->get('broadcasting.connections.reverb.options', []);
        foreach ($this->counter->countEach($this->apps->all(), $server) as $id => $connections) {
            $this->pulse->record(
                type: 'reverb_connections',
                key: (string) $id,
                value: $connections,
                timestamp: $event->time->getTimestamp(),
            )->avg()->max()->onlyBuckets();
        }
    }
}
