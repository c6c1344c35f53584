<?php

namespace App\Notifications;

use Illuminate\Notifications\Messages\BroadcastMessage;
use Illuminate\Notifications\Notification;

/** A notification sent only through the broadcast channel (Echo's `.notification()`). */
class Greeting extends Notification
{
    public function __construct(public string $text)
    {
    }

    public function via(object $notifiable): array
    {
        return ['broadcast'];
    }

    public function toBroadcast(object $notifiable): BroadcastMessage
    {
        return new BroadcastMessage(['text' => $this->text, 'to' => $notifiable->name]);
    }
}
