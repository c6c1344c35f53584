<?php

return [

    /*
    |--------------------------------------------------------------------------
    | Default Reverb Server
    |--------------------------------------------------------------------------
    |
    | The server used by `php artisan reverb:start`. reverb-rs runs it inside
    | the PHP process through the reverb_rs extension; only "reverb" exists.
    |
    */

    'default' => env('REVERB_SERVER', 'reverb'),

    /*
    |--------------------------------------------------------------------------
    | Reverb Servers
    |--------------------------------------------------------------------------
    |
    | Where the server listens (REVERB_SERVER_HOST / REVERB_SERVER_PORT) and
    | the public hostname clients use (REVERB_HOST). The keys match Laravel
    | Reverb's, so an existing config/reverb.php works unchanged.
    |
    */

    'servers' => [

        'reverb' => [
            'host' => env('REVERB_SERVER_HOST', '0.0.0.0'),
            'port' => env('REVERB_SERVER_PORT', 8080),
            'path' => env('REVERB_SERVER_PATH', ''),
            'hostname' => env('REVERB_HOST'),
            'options' => [
                'tls' => [],
            ],
            'max_request_size' => env('REVERB_MAX_REQUEST_SIZE', 10_000),
            'scaling' => [
                'enabled' => env('REVERB_SCALING_ENABLED', false),
                'channel' => env('REVERB_SCALING_CHANNEL', 'reverb'),
                // reverb-rs: put in front of every Redis channel and key, so apps sharing
                // a Redis stay apart; null takes database.redis.options.prefix (REDIS_PREFIX).
                'prefix' => env('REVERB_SCALING_PREFIX'),
                // reverb-rs: seconds a node may miss heartbeats before the other nodes
                // remove its presence members.
                'node_timeout' => env('REVERB_SCALING_NODE_TIMEOUT', 10),
                'server' => [
                    'url' => env('REDIS_URL'),
                    'host' => env('REDIS_HOST', '127.0.0.1'),
                    'port' => env('REDIS_PORT', '6379'),
                    'username' => env('REDIS_USERNAME'),
                    'password' => env('REDIS_PASSWORD'),
                    'database' => env('REDIS_DB', '0'),
                    'timeout' => env('REDIS_TIMEOUT', 60),
                    // reverb-rs: 'tls' encrypts the connection (as a rediss:// or tls:// URL does).
                    'scheme' => env('REDIS_SCHEME'),
                    // reverb-rs: PHP's SSL context names; the system's roots when cafile is null.
                    'tls' => [
                        'cafile' => env('REDIS_TLS_CAFILE'),
                        'verify_peer' => env('REDIS_TLS_VERIFY_PEER', true),
                    ],
                    // reverb-rs: true when Redis runs in cluster mode (a managed "cluster mode" service).
                    'cluster' => env('REVERB_SCALING_CLUSTER', false),
                ],
            ],
            'pulse_ingest_interval' => env('REVERB_PULSE_INGEST_INTERVAL', 15),
            'telescope_ingest_interval' => env('REVERB_TELESCOPE_INGEST_INTERVAL', 15),

            // reverb-rs: dispatch the socket events of ReverbRs\Laravel\Events (Subscribed,
            // MessageReceived, ...) from `reverb:start`. Off by default: every socket event
            // then becomes a Laravel event in the server loop.
            'dispatch_events' => env('REVERB_DISPATCH_EVENTS', false),

            // reverb-rs: Prometheus metrics at http://host:port/metrics, on a port of their
            // own so the public WebSocket port never shows them (see docs/metrics.md).
            'metrics' => [
                'enabled' => env('REVERB_METRICS_ENABLED', false),
                'host' => env('REVERB_METRICS_HOST', '127.0.0.1'),
                'port' => env('REVERB_METRICS_PORT', 9601),
            ],

            // reverb-rs: how webhooks are sent; each app lists its endpoints under `webhooks`.
            'webhooks' => [
                // Also dispatch each webhook event as ReverbRs\Laravel\Events\ChannelOccupied,
                // MemberAdded, ... from `reverb:start`, whether or not the app has webhooks.
                'dispatch_events' => env('REVERB_WEBHOOK_EVENTS', false),
                // Milliseconds channel_vacated and member_removed wait for the channel or
                // member to come back; a return within them sends neither.
                'delay_ms' => 3000,
                // Milliseconds an event waits for others to share its request, and the most
                // events in one request.
                'batch_ms' => 50,
                'batch_size' => 50,
                // Seconds a request may take; a failed one is retried, with pauses growing
                // from 1 s to 60 s, for `retry_for` seconds before its events are dropped.
                'timeout' => 4,
                'retry_for' => 300,
                // Events that may wait for one endpoint; past it the oldest are dropped.
                'queue_size' => 10_000,
            ],
        ],

    ],

    /*
    |--------------------------------------------------------------------------
    | Reverb Applications
    |--------------------------------------------------------------------------
    |
    | The applications the server accepts, with their credentials and limits.
    | The provider says where they come from: "config" (the list below),
    | "database" (the reverb_apps table: publish its migration with
    | `php artisan vendor:publish --tag=reverb-rs-migrations`), or a provider
    | registered with ApplicationManager::extend().
    |
    */

    'apps' => [

        'provider' => env('REVERB_APPS_PROVIDER', 'config'),

        // reverb-rs: seconds between two readings of the provider's apps while the server
        // runs (0: never); `php artisan reverb:apps:reload` makes every server read them now.
        // The apps of config/reverb.php are read once, at start.
        'reload_interval' => env('REVERB_APPS_RELOAD_INTERVAL', 60),

        // reverb-rs: where the "database" provider finds its apps (null: the default
        // connection).
        'database' => [
            'connection' => env('REVERB_APPS_DB_CONNECTION'),
            'table' => 'reverb_apps',
        ],

        // reverb-rs: look each app up when a client or an API request names it, instead of
        // reading them all at start (for a table with very many apps). Found apps are kept
        // for cache_ttl seconds, unknown keys for negative_ttl; a lookup waits at most
        // timeout seconds for the provider.
        'lookup' => [
            'enabled' => env('REVERB_APPS_LOOKUP', false),
            'cache_ttl' => env('REVERB_APPS_LOOKUP_CACHE_TTL', 300),
            'negative_ttl' => env('REVERB_APPS_LOOKUP_NEGATIVE_TTL', 30),
            'timeout' => env('REVERB_APPS_LOOKUP_TIMEOUT', 2),
        ],

        'apps' => [
            [
                'key' => env('REVERB_APP_KEY'),
                'secret' => env('REVERB_APP_SECRET'),
                'app_id' => env('REVERB_APP_ID'),
                'options' => [
                    'host' => env('REVERB_HOST'),
                    'port' => env('REVERB_PORT', 443),
                    'scheme' => env('REVERB_SCHEME', 'https'),
                    'useTLS' => env('REVERB_SCHEME', 'https') === 'https',
                ],
                'allowed_origins' => ['*'],
                'ping_interval' => env('REVERB_APP_PING_INTERVAL', 60),
                'activity_timeout' => env('REVERB_APP_ACTIVITY_TIMEOUT', 30),
                'max_connections' => env('REVERB_APP_MAX_CONNECTIONS'),
                'max_message_size' => env('REVERB_APP_MAX_MESSAGE_SIZE', 10_000),
                'accept_client_events_from' => env('REVERB_APP_ACCEPT_CLIENT_EVENTS_FROM', 'members'),
                'rate_limiting' => [
                    'enabled' => env('REVERB_APP_RATE_LIMITING_ENABLED', false),
                    'max_attempts' => env('REVERB_APP_RATE_LIMIT_MAX_ATTEMPTS', 60),
                    'decay_seconds' => env('REVERB_APP_RATE_LIMIT_DECAY_SECONDS', 60),
                    'terminate_on_limit' => env('REVERB_APP_RATE_LIMIT_TERMINATE', false),
                ],
                // reverb-rs: limits for a public server, as Pusher sets them; 0 turns one
                // off (Laravel Reverb has none of them).
                'max_client_events_per_second' => env('REVERB_APP_MAX_CLIENT_EVENTS_PER_SECOND', 10),
                'max_channels_per_connection' => env('REVERB_APP_MAX_CHANNELS_PER_CONNECTION', 100),
                'max_presence_members' => env('REVERB_APP_MAX_PRESENCE_MEMBERS', 100),
                'max_presence_user_info_bytes' => env('REVERB_APP_MAX_PRESENCE_USER_INFO_BYTES', 2048),
                // reverb-rs: where the app's Pusher webhooks go, in soketi's shape: a list of
                // ['url' => ..., 'event_types' => [...], 'filter' => [...], 'headers' => [...]].
                'webhooks' => env('REVERB_WEBHOOK_URL') ? [['url' => env('REVERB_WEBHOOK_URL')]] : [],
                // reverb-rs: tell the subscribers of a channel other than a presence one how
                // many they are whenever that changes (pusher-js: pusher:subscription_count).
                'subscription_count' => env('REVERB_SUBSCRIPTION_COUNT', false),
            ],
        ],

    ],

];
