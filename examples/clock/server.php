<?php

/**
 * The demo server: a reverb-rs server on 127.0.0.1:8080 with one app ("demo-key") that
 * publishes a clock tick to the public channel "clock" every second.
 *
 * Run it with the extension loaded: php -d extension=target/release/libreverb_rs.so examples/clock/server.php
 */

declare(strict_types=1);

$host = getenv('DEMO_HOST') ?: '127.0.0.1';
$port = (int) (getenv('DEMO_PORT') ?: 8080);

$server = new ReverbRs\Server([
    'servers' => ['reverb' => ['host' => $host, 'port' => $port]],
    'apps' => ['apps' => [[
        'app_id' => 'demo',
        'key' => 'demo-key',
        'secret' => 'demo-secret',
        'allowed_origins' => ['*'],
    ]]],
]);
$server->start();
fwrite(STDOUT, "reverb-rs is listening on ws://{$host}:{$server->port()}/app/demo-key\n");

$running = true;
pcntl_async_signals(true);
foreach ([SIGINT, SIGTERM] as $signal) {
    pcntl_signal($signal, function () use (&$running): void {
        $running = false;
    });
}

$tick = 0;
$nextTick = microtime(true);
while ($running) {
    $timeoutMs = (int) max(0, ($nextTick - microtime(true)) * 1000);
    if ($server->wait($timeoutMs) === 1) {
        foreach ($server->drain() as $event) {
            if (in_array($event['type'], ['connection_opened', 'connection_closed', 'subscribed'], true)) {
                fwrite(STDOUT, sprintf("%s %s %s\n", $event['type'], $event['socket_id'], $event['channel'] ?? ''));
            }
        }
    }
    if (microtime(true) >= $nextTick) {
        $tick++;
        $data = json_encode(['tick' => $tick, 'time' => date('H:i:s')]);
        $server->publish('demo', ['clock'], 'tick', $data);
        $nextTick += 1.0;
    }
}

fwrite(STDOUT, "Stopping: clients are told to reconnect.\n");
$server->stop();
