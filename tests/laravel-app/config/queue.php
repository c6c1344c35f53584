<?php

return [

    // MessagePosted is ShouldBroadcastNow, so nothing is queued; "sync" keeps it that way.
    'default' => env('QUEUE_CONNECTION', 'sync'),

    'connections' => [

        'sync' => [
            'driver' => 'sync',
        ],

    ],

    'failed' => [
        'driver' => 'null',
    ],

];
