<?php

/**
 * The server the Python SDK tests talk to: one app on a free port, printed on the first line.
 * With METRICS_PORT set it serves Prometheus metrics on that loopback port.
 */

declare(strict_types=1);

$metrics = getenv('METRICS_PORT');
$server = new ReverbRs\Server([
    'servers' => ['reverb' => [
        'host' => '127.0.0.1',
        'port' => 0,
        'metrics' => $metrics === false ? [] : ['enabled' => true, 'port' => $metrics],
    ]],
    'apps' => ['apps' => [['app_id' => '123456', 'key' => 'sdk-key', 'secret' => 'sdk-secret']]],
]);
$server->start();
fwrite(STDOUT, "listening on 127.0.0.1:{$server->port()}\n");

$running = true;
pcntl_async_signals(true);
pcntl_signal(SIGTERM, function () use (&$running): void {
    $running = false;
});
while ($running) {
    if ($server->wait(1000) === 1) {
        $server->drain();
    }
}
$server->stop(0.5);
