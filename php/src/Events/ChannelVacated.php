<?php

declare(strict_types=1);

namespace ReverbRs\Laravel\Events;

use Illuminate\Foundation\Events\Dispatchable;

/**
 * A channel lost its last subscriber anywhere in the cluster and stayed empty for
 * `webhooks.delay_ms` (the `channel_vacated` webhook).
 */
final class ChannelVacated
{
    use Dispatchable;

    public function __construct(
        public readonly string $appId,
        public readonly string $channel,
    ) {
    }

    /** Builds the event from an engine `webhook` event array (`ReverbRs\Server::drain()`). */
    public static function fromEngine(array $event): self
    {
        return new self(
            $event['app_id'],
            $event['channel'],
        );
    }
}
