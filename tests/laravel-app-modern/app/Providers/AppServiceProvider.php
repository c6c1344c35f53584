<?php

namespace App\Providers;

use App\Listeners\RecordWebhookEvent;
use Illuminate\Support\Facades\Broadcast;
use Illuminate\Support\Facades\Event;
use Illuminate\Support\ServiceProvider;
use ReverbRs\Laravel\Events;

class AppServiceProvider extends ServiceProvider
{
    /**
     * User authentication for pusher-js's signin(): POST /broadcasting/user-auth; the webhook
     * events of reverb:start (REVERB_WEBHOOK_EVENTS=true) recorded by RecordWebhookEvent.
     */
    public function boot(): void
    {
        Broadcast::userRoutes();
        Broadcast::resolveAuthenticatedUserUsing(fn ($request) => $request->user() === null ? null : [
            'id' => (string) $request->user()->id,
            'user_info' => ['name' => $request->user()->name],
        ]);

        Event::listen([
            Events\ChannelOccupied::class,
            Events\ChannelVacated::class,
            Events\MemberAdded::class,
            Events\MemberRemoved::class,
            Events\ClientEvent::class,
            Events\CacheMiss::class,
            Events\SubscriptionCount::class,
        ], RecordWebhookEvent::class);
    }
}
