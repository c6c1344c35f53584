<?php

return [

    'default' => env('CACHE_DRIVER', env('CACHE_STORE', 'file')),

    'stores' => [

        'array' => [
            'driver' => 'array',
            'serialize' => false,
        ],

        'file' => [
            'driver' => 'file',
            'path' => storage_path('framework/cache/data'),
        ],

    ],

    'prefix' => env('CACHE_PREFIX', 'reverb_rs_demo_cache'),

];
