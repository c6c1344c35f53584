<?php

namespace App\Listeners;

/**
 * Writes each webhook event reverb:start dispatches (ReverbRs\Laravel\Events\MemberAdded, ...)
 * as a JSON line of storage/app/webhook-events.jsonl: its class name and its properties.
 */
class RecordWebhookEvent
{
    /** Appends the event. Typed `object`, so that Laravel's event discovery leaves it to the provider. */
    public function handle(object $event): void
    {
        $line = json_encode(['class' => class_basename($event)] + get_object_vars($event)) . "\n";
        file_put_contents(storage_path('app/webhook-events.jsonl'), $line, FILE_APPEND | LOCK_EX);
    }
}
