<?php

/**
 * A reverb-rs server for benchmarks: one app (bench-app / bench-key / bench-secret) on
 * BENCH_HOST:BENCH_PORT (127.0.0.1:6001), serving until SIGINT or SIGTERM. With BENCH_REDIS_URL
 * set it is a node of a cluster over the Redis that URL names (rediss:// for TLS, the server's
 * certificate checked against the authority in BENCH_REDIS_CAFILE when that is set), with
 * BENCH_REDIS_PORT set over the Redis on that loopback port; with BENCH_WEBHOOK_URL set the app
 * sends every kind of webhook there; with BENCH_METRICS_PORT set it serves Prometheus metrics on
 * that loopback port. Like `reverb:start` without --debug or dispatch_events, it asks for no
 * copy of each message clients send.
 */

declare(strict_types=1);

require_once __DIR__ . '/serve.php';

$redis = match (true) {
    getenv('BENCH_REDIS_URL') !== false => ['url' => getenv('BENCH_REDIS_URL')],
    getenv('BENCH_REDIS_PORT') !== false => [
        'host' => '127.0.0.1',
        'port' => getenv('BENCH_REDIS_PORT'),
    ],
    default => null,
};
if ($redis !== null && getenv('BENCH_REDIS_CAFILE') !== false) {
    $redis['tls'] = ['cafile' => getenv('BENCH_REDIS_CAFILE')];
}

$server = new ReverbRs\Server([
    'servers' => ['reverb' => [
        'host' => getenv('BENCH_HOST') ?: '127.0.0.1',
        'port' => (int) (getenv('BENCH_PORT') ?: 6001),
        'event_queue_size' => 1024,
        'report_received_messages' => false,
        'scaling' => $redis === null ? [] : ['enabled' => true, 'server' => $redis],
        'metrics' => getenv('BENCH_METRICS_PORT') === false ? [] : [
            'enabled' => true,
            'port' => getenv('BENCH_METRICS_PORT'),
        ],
    ]],
    'apps' => ['apps' => [[
        'app_id' => 'bench-app',
        'key' => 'bench-key',
        'secret' => 'bench-secret',
        'accept_client_events_from' => 'all',
        // The flood scenario's attackers whisper as fast as they can: without the default
        // 10 client events a second per socket, the send queue budget is what holds them.
        'max_client_events_per_second' => 0,
        'max_message_size' => 100000,
        'webhooks' => getenv('BENCH_WEBHOOK_URL') === false ? [] : [['url' => getenv('BENCH_WEBHOOK_URL')]],
    ]]],
]);
$server->start();
serveUntilSignalled($server);
