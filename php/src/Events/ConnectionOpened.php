<?php

declare(strict_types=1);

namespace ReverbRs\Laravel\Events;

use Illuminate\Foundation\Events\Dispatchable;

/**
 * A socket connected and received its socket id.
 */
final class ConnectionOpened
{
    use Dispatchable;

    public function __construct(
        public readonly string $appId,
        public readonly string $socketId,
        public readonly ?string $origin,
        public readonly ?string $ip,
    ) {
    }

    /** Builds the event from an engine event array (`ReverbRs\Server::drain()`). */
    public static function fromEngine(array $event): self
    {
        return new self(
            $event['app_id'],
            $event['socket_id'],
            $event['origin'] ?? null,
            $event['ip'] ?? null,
        );
    }
}
