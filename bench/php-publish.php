<?php

/**
 * What one publish costs a PHP process, three ways:
 *  - in-process: ReverbRs\Server::publish() in the process that runs the server;
 *  - client:     ReverbRs\Client over a kept-alive connection to a server in another process;
 *  - fresh:      a signed HTTP request on a new connection per call, closed afterwards, which
 *                is what publishing to Laravel Reverb amounts to (it closes every connection).
 *
 * Usage: php -d extension=target/release/libreverb_rs.so bench/php-publish.php [calls]
 * Prints one JSON line per mode: wall and PHP CPU microseconds per call.
 */

declare(strict_types=1);

$calls = (int) ($argv[1] ?? 20000);
$app = ['app_id' => 'bench-app', 'key' => 'bench-key', 'secret' => 'bench-secret'];
$data = json_encode(['message' => 'hello', 'sent_at' => microtime(true)]);

/** Runs $call $calls times; returns wall and CPU microseconds per call. */
function measure(int $calls, callable $call): array
{
    $call();
    $usage = getrusage();
    $started = hrtime(true);
    for ($i = 0; $i < $calls; $i++) {
        $call();
    }
    $wall = (hrtime(true) - $started) / 1000 / $calls;
    $after = getrusage();
    $cpu = 0.0;
    foreach (['ru_utime', 'ru_stime'] as $kind) {
        $cpu += ($after["{$kind}.tv_sec"] - $usage["{$kind}.tv_sec"]) * 1e6
            + ($after["{$kind}.tv_usec"] - $usage["{$kind}.tv_usec"]);
    }
    return ['wall_us' => round($wall, 2), 'php_cpu_us' => round($cpu / $calls, 2)];
}

function report(string $mode, int $calls, array $result): void
{
    echo json_encode(['scenario' => 'php-publish', 'mode' => $mode, 'calls' => $calls] + $result), "\n";
}

// In-process: the server runs here.
$server = new ReverbRs\Server([
    'servers' => ['reverb' => ['host' => '127.0.0.1', 'port' => 0]],
    'apps' => ['apps' => [$app]],
]);
$server->start();
report('in-process', $calls * 10, measure($calls * 10, fn () => $server->publish('bench-app', ['bench'], 'tick', $data)));
$server->stop(0.1);

// The other modes talk to a server in another process, pinned to core 1 when possible.
$taskset = trim((string) shell_exec('command -v taskset'));
$extension = getenv('REVERB_RS_EXTENSION') ?: dirname(__DIR__) . '/target/release/libreverb_rs.so';
$command = ($taskset !== '' ? [$taskset, '-c', '1'] : []);
$command = array_merge($command, [PHP_BINARY, '-d', "extension={$extension}", __DIR__ . '/servers/reverb-rs.php']);
$process = proc_open($command, [1 => ['pipe', 'w']], $pipes, null, ['BENCH_PORT' => '0'] + getenv());
$line = fgets($pipes[1]);
if (!preg_match('/:(\d+) pid/', (string) $line, $match)) {
    fwrite(STDERR, "the benchmark server did not start: {$line}\n");
    exit(1);
}
$port = (int) $match[1];

$client = new ReverbRs\Client($app + ['host' => '127.0.0.1', 'port' => $port]);
report('client-keep-alive', $calls, measure($calls, fn () => $client->trigger('bench', 'tick', $data)));

$fresh = function () use ($app, $port, $data): void {
    $body = json_encode(['name' => 'tick', 'data' => $data, 'channels' => ['bench']]);
    $params = [
        'auth_key' => $app['key'],
        'auth_timestamp' => (string) time(),
        'auth_version' => '1.0',
        'body_md5' => md5($body),
    ];
    ksort($params);
    $path = "/apps/{$app['app_id']}/events";
    $query = urldecode(http_build_query($params));
    $params['auth_signature'] = hash_hmac('sha256', "POST\n{$path}\n{$query}", $app['secret']);
    $socket = stream_socket_client("tcp://127.0.0.1:{$port}", $errno, $error, 5.0);
    fwrite($socket, "POST {$path}?" . http_build_query($params) . " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        . "Content-Type: application/json\r\nContent-Length: " . strlen($body) . "\r\nConnection: close\r\n\r\n{$body}");
    $response = stream_get_contents($socket);
    fclose($socket);
    if (!str_starts_with((string) $response, 'HTTP/1.1 200')) {
        throw new RuntimeException("publish failed: {$response}");
    }
};
report('fresh-connection', intdiv($calls, 4), measure(intdiv($calls, 4), $fresh));

proc_terminate($process);
proc_close($process);
