<?php

namespace App\Http\Controllers;

use App\Models\User;
use App\Providers\AppServiceProvider;
use Illuminate\Http\Request;
use Illuminate\Routing\Controller;

class ChatController extends Controller
{
    /** GET / : the chat page, the name form, or (with ?name=) a sign-in. */
    public function show(Request $request)
    {
        $room = $this->room($request->query('room'));

        if ($request->query('name') !== null) {
            return $this->login($request);
        }

        $user = $request->user();
        if ($user === null) {
            return response()->view('login', ['room' => $room]);
        }

        $reverb = config('broadcasting.connections.reverb', []);

        return response()->view('chat', [
            'user' => $user,
            'room' => $room,
            'echo' => [
                'key' => $reverb['key'] ?? null,
                'port' => (int) ($reverb['options']['port'] ?? 8080),
                'scheme' => $reverb['options']['scheme'] ?? 'http',
            ],
        ]);
    }

    /**
     * GET /login?name=Alice : signs in as Alice (no password, no database). Browsers are sent
     * to the room; a client that asks for JSON gets the user and the CSRF token instead.
     */
    public function login(Request $request)
    {
        $name = (string) $request->query('name', '');
        $room = $this->room($request->query('room'));

        if (! User::isValidName($name)) {
            return $request->expectsJson()
                ? response()->json(['message' => 'A name of 1 to 40 characters is needed.'], 422)
                : redirect('/?room='.$room);
        }

        $user = User::named($name);
        $request->session()->regenerate();
        $request->session()->put(AppServiceProvider::SESSION_KEY, $user->toArray());

        if ($request->expectsJson()) {
            return response()->json(['user' => $user->toArray(), 'csrf_token' => $request->session()->token()]);
        }

        return redirect('/?room='.$room);
    }

    /** GET /logout */
    public function logout(Request $request)
    {
        $request->session()->invalidate();

        return redirect('/');
    }

    /** The browser builds of pusher-js and laravel-echo, straight from node_modules. */
    public function asset(string $file)
    {
        $files = [
            'pusher.js' => 'pusher-js/dist/web/pusher.min.js',
            'echo.js' => 'laravel-echo/dist/echo.iife.js',
        ];
        $path = base_path('../../node_modules/'.$files[$file]);
        if (! is_file($path)) {
            abort(404, "node_modules/{$files[$file]} is missing: run npm install in the repository root.");
        }

        return response()->file($path, [
            'Content-Type' => 'application/javascript; charset=utf-8',
            'Cache-Control' => 'public, max-age=3600',
        ]);
    }

    private function room($room): string
    {
        return is_string($room) && preg_match('/^[A-Za-z0-9_-]{1,40}$/', $room) ? $room : 'lobby';
    }
}
