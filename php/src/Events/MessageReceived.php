<?php

declare(strict_types=1);

namespace ReverbRs\Laravel\Events;

use Illuminate\Foundation\Events\Dispatchable;

/**
 * A client sent a message that the server handled without error; `$message` is the raw frame.
 */
final class MessageReceived
{
    use Dispatchable;

    public function __construct(
        public readonly string $appId,
        public readonly string $socketId,
        public readonly string $message,
        public readonly string $event,
        public readonly ?string $channel,
    ) {
    }

    /** Builds the event from an engine event array (`ReverbRs\Server::drain()`). */
    public static function fromEngine(array $event): self
    {
        return new self(
            $event['app_id'],
            $event['socket_id'],
            $event['message'],
            $event['event'],
            $event['channel'] ?? null,
        );
    }
}
