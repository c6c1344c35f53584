<?php

return [

    'defaults' => [
        'guard' => 'web',
        'passwords' => 'users',
    ],

    /*
    | The "web" guard is a request guard (Auth::viaRequest in AppServiceProvider) that reads
    | the signed-in user from the session: there is no database and no password.
    */

    'guards' => [
        'web' => [
            'driver' => 'demo-session',
        ],
    ],

    'providers' => [],

    'passwords' => [],

    'password_timeout' => 10800,

];
