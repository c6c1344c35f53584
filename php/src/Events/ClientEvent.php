<?php

declare(strict_types=1);

namespace ReverbRs\Laravel\Events;

use Illuminate\Foundation\Events\Dispatchable;

/**
 * A client sent a `client-` event (the `client_event` webhook): `$data` is its data as a JSON
 * string, `$userId` the sender's on presence channels.
 */
final class ClientEvent
{
    use Dispatchable;

    public function __construct(
        public readonly string $appId,
        public readonly string $channel,
        public readonly string $event,
        public readonly string $data,
        public readonly string $socketId,
        public readonly ?string $userId,
    ) {
    }

    /** Builds the event from an engine `webhook` event array (`ReverbRs\Server::drain()`). */
    public static function fromEngine(array $event): self
    {
        return new self(
            $event['app_id'],
            $event['channel'],
            $event['event'],
            $event['data'],
            $event['socket_id'],
            $event['user_id'] ?? null,
        );
    }
}
