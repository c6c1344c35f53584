<?php

namespace App\Providers;

use Illuminate\Support\Facades\Broadcast;
use Illuminate\Support\ServiceProvider;

class AppServiceProvider extends ServiceProvider
{
    /** User authentication for pusher-js's signin(): POST /broadcasting/user-auth. */
    public function boot(): void
    {
        Broadcast::userRoutes();
        Broadcast::resolveAuthenticatedUserUsing(fn ($request) => $request->user() === null ? null : [
            'id' => (string) $request->user()->id,
            'user_info' => ['name' => $request->user()->name],
        ]);
    }
}
