<?php

declare(strict_types=1);

namespace ReverbRs\Laravel\Events;

use Illuminate\Foundation\Events\Dispatchable;

/**
 * A channel got its first subscriber anywhere in the cluster (the `channel_occupied` webhook).
 */
final class ChannelOccupied
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
