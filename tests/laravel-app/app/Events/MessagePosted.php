<?php

namespace App\Events;

use Illuminate\Broadcasting\InteractsWithSockets;
use Illuminate\Broadcasting\PresenceChannel;
use Illuminate\Contracts\Broadcasting\ShouldBroadcastNow;
use Illuminate\Foundation\Events\Dispatchable;
use Illuminate\Support\Str;

/**
 * A chat message, broadcast at once (no queue worker) to everyone in the room's presence
 * channel. laravel-echo receives it as "MessagePosted" (namespace App.Events).
 */
class MessagePosted implements ShouldBroadcastNow
{
    use Dispatchable, InteractsWithSockets;

    public string $id;

    public string $sentAt;

    /**
     * @param  array{id: int|string, name: string}  $author
     */
    public function __construct(
        public string $room,
        public string $text,
        public array $author,
    ) {
        $this->id = (string) Str::uuid();
        $this->sentAt = date(DATE_ATOM);
    }

    public function broadcastOn()
    {
        return new PresenceChannel('room.'.$this->room);
    }

    public function broadcastWith(): array
    {
        return [
            'id' => $this->id,
            'room' => $this->room,
            'text' => $this->text,
            'author' => $this->author,
            'sent_at' => $this->sentAt,
        ];
    }
}
