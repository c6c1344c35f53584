<?php

namespace App\Console\Commands;

use App\Events\MessagePosted;
use Illuminate\Console\Command;
use Throwable;

/** Posts a chat message from outside any web request: `php artisan app:post-message hello`. */
class PostMessage extends Command
{
    protected $signature = 'app:post-message
                            {text : The message}
                            {--room=lobby : The room (presence channel room.{room})}
                            {--as=Artisan : The author name shown}';

    protected $description = 'Broadcast a chat message to a room of the demo';

    public function handle()
    {
        $room = (string) $this->option('room');
        if (! preg_match('/^[A-Za-z0-9_-]{1,40}$/', $room)) {
            $this->error('The room must be 1-40 letters, digits, "_" or "-".');

            return 1;
        }

        $event = new MessagePosted($room, (string) $this->argument('text'), [
            'id' => 0,
            'name' => (string) $this->option('as'),
        ]);

        try {
            event($event);
        } catch (Throwable $e) {
            $this->error('Broadcasting failed: '.$e->getMessage());

            return 1;
        }

        $this->info("Posted to presence-room.{$room}: {$event->text}");

        return 0;
    }
}
