<?php

declare(strict_types=1);

namespace ReverbRs\Laravel\Events;

use Illuminate\Foundation\Events\Dispatchable;

/**
 * A socket disconnected, for whatever reason.
 */
final class ConnectionClosed
{
    use Dispatchable;

    public function __construct(
        public readonly string $appId,
        public readonly string $socketId,
    ) {
    }

    /** Builds the event from an engine event array (`ReverbRs\Server::drain()`). */
    public static function fromEngine(array $event): self
    {
        return new self(
            $event['app_id'],
            $event['socket_id'],
        );
    }
}
