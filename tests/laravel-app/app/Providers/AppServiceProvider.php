<?php

namespace App\Providers;

use App\Models\User;
use Illuminate\Http\Request;
use Illuminate\Support\Facades\Auth;
use Illuminate\Support\ServiceProvider;

class AppServiceProvider extends ServiceProvider
{
    /** The session key holding the signed-in user's id and name. */
    public const SESSION_KEY = 'demo_user';

    public function register()
    {
        //
    }

    public function boot()
    {
        // The "web" guard's driver: the user is whatever /login put in the session.
        Auth::viaRequest('demo-session', function (Request $request) {
            if (! $request->hasSession()) {
                return null;
            }

            $user = $request->session()->get(self::SESSION_KEY);

            return is_array($user) && isset($user['id'], $user['name']) ? new User($user) : null;
        });
    }
}
