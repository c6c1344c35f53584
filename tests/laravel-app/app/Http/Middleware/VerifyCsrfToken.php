<?php

namespace App\Http\Middleware;

use Illuminate\Foundation\Http\Middleware\VerifyCsrfToken as Middleware;

/**
 * CSRF protection stays on for every POST, /broadcasting/auth and /messages included: the
 * page sends the token (laravel-echo reads <meta name="csrf-token"> itself), and other
 * clients get it from /login as JSON.
 */
class VerifyCsrfToken extends Middleware
{
    /**
     * @var array<int, string>
     */
    protected $except = [];
}
