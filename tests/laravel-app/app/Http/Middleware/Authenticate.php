<?php

namespace App\Http\Middleware;

use Closure;
use Illuminate\Http\Request;

/** Lets signed-in users through; others get 401 JSON (the API routes are used by scripts). */
class Authenticate
{
    public function handle(Request $request, Closure $next)
    {
        if ($request->user() === null) {
            return response()->json(['message' => 'Sign in first: GET /login?name=...'], 401);
        }

        return $next($request);
    }
}
