<?php

declare(strict_types=1);

namespace Laravel\Reverb\Pulse\Recorders;

use Illuminate\Contracts\Config\Repository;
use Laravel\Pulse\Events\IsolatedBeat;
use Laravel\Pulse\Pulse;
use ReverbRs\Laravel\Pulse\ConnectionCounter;

/**
 * The Pulse recorder of the "Reverb Connections" card, under the name a config/pulse.php
 * written for laravel/reverb lists. Like Reverb's, it runs where `pulse:check` runs: every
 * 15 s it asks the server's HTTP API how many connections each app of config/reverb.php has
 * (the whole cluster's, with scaling on), and records `reverb_connections` with the app id as
 * key, aggregated as `avg` and `max` into buckets only.
 */
final class ReverbConnections
{
    /** Pulse calls record() on every beat of `pulse:check`, in one process of the cluster. */
    public string $listen = IsolatedBeat::class;

    public function __construct(
        private Pulse $pulse,
        private Repository $config,
        private ConnectionCounter $counter,
    ) {
    }

    /** Records each app's connections on the beats of second 0, 15, 30 and 45. */
    public function record(IsolatedBeat $event): void
    {
        if ($event->time->second % 15 !== 0) {
            return;
        }
        foreach ((array) $this->config->get('reverb.apps.apps', []) as $app) {
            $this->pulse->record(
                type: 'reverb_connections',
                key: (string) $app['app_id'],
                value: $this->counter->count($app),
                timestamp: $event->time->getTimestamp(),
            )->avg()->max()->onlyBuckets();
        }
    }
}
