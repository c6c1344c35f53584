<?php

declare(strict_types=1);

namespace ReverbRs\Laravel\Events;

use Illuminate\Foundation\Events\Dispatchable;

/**
 * The number of sockets subscribed to a channel changed, counted in the whole cluster (the
 * `subscription_count` webhook).
 */
final class SubscriptionCount
{
    use Dispatchable;

    public function __construct(
        public readonly string $appId,
        public readonly string $channel,
        public readonly int $subscriptionCount,
    ) {
    }

    /** Builds the event from an engine `webhook` event array (`ReverbRs\Server::drain()`). */
    public static function fromEngine(array $event): self
    {
        return new self(
            $event['app_id'],
            $event['channel'],
            $event['subscription_count'],
        );
    }
}
