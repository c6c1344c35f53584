<?php

declare(strict_types=1);

namespace ReverbRs\Laravel\Events;

use Illuminate\Foundation\Events\Dispatchable;

/**
 * A frame was written to a client (dispatched only while `dispatch_events` or `--debug` asks for it).
 */
final class MessageSent
{
    use Dispatchable;

    public function __construct(
        public readonly string $appId,
        public readonly string $socketId,
        public readonly string $message,
    ) {
    }

    /** Builds the event from an engine event array (`ReverbRs\Server::drain()`). */
    public static function fromEngine(array $event): self
    {
        return new self(
            $event['app_id'],
            $event['socket_id'],
            $event['message'],
        );
    }
}
