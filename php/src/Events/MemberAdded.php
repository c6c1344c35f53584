<?php

declare(strict_types=1);

namespace ReverbRs\Laravel\Events;

use Illuminate\Foundation\Events\Dispatchable;

/**
 * A user's first socket joined a presence channel (the `member_added` webhook).
 */
final class MemberAdded
{
    use Dispatchable;

    public function __construct(
        public readonly string $appId,
        public readonly string $channel,
        public readonly string $userId,
    ) {
    }

    /** Builds the event from an engine `webhook` event array (`ReverbRs\Server::drain()`). */
    public static function fromEngine(array $event): self
    {
        return new self(
            $event['app_id'],
            $event['channel'],
            $event['user_id'],
        );
    }
}
