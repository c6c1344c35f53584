<?php

namespace App\Http\Controllers;

use App\Models\User;
use Illuminate\Http\Request;
use Illuminate\Support\Facades\Auth;
use Illuminate\Support\Str;

/** Password-less sign-in for the tests: one database user per name. */
class SessionController extends Controller
{
    /** GET /login?name=Alice : signs in as Alice (created on first use); JSON with the CSRF token. */
    public function login(Request $request)
    {
        $name = trim((string) $request->query('name', ''));
        if ($name === '' || mb_strlen($name) > 40) {
            return response()->json(['message' => 'A name of 1 to 40 characters is needed.'], 422);
        }

        $user = User::firstOrCreate(
            ['email' => Str::slug($name).'@example.test'],
            ['name' => $name, 'password' => Str::random(32)],
        );
        Auth::login($user);
        $request->session()->regenerate();

        return response()->json([
            'user' => ['id' => $user->id, 'name' => $user->name],
            'csrf_token' => $request->session()->token(),
        ]);
    }
}
