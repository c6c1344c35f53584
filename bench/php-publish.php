<?php

/**
 * What one publish costs a PHP process, three ways:
 *  - in_process:        ReverbRs\Server::publish() in the process that runs the server;
 *  - client_keep_alive: ReverbRs\Client over a kept-alive connection to a server in another
 *                       process (a server that closes connections gets a new one per call);
 *  - fresh_connection:  a signed HTTP request on a new connection per call, closed afterwards,
 *                       which is what publishing to Laravel Reverb amounts to (it closes every
 *                       connection).
 *
 * Usage: php -d extension=target/release/libreverb_rs.so bench/php-publish.php [options]
 *   --calls N                 calls per mode (20000; ten times as many in-process)
 *   --port P                  publish to the server on 127.0.0.1:P (any Pusher-compatible one)
 *                             instead of starting bench/servers/reverb-rs.php on core 1
 *   --app-id, --key, --secret that server's app (bench-app / bench-key / bench-secret)
 *   --no-in-process           skip the in-process mode (when measuring another server)
 * Prints one JSON line: per mode, the calls and the wall and PHP CPU microseconds per call.
 */

declare(strict_types=1);

$options = getopt('', ['calls:', 'port:', 'app-id:', 'key:', 'secret:', 'no-in-process']);
$calls = (int) ($options['calls'] ?? 20000);
$app = [
    'app_id' => $options['app-id'] ?? 'bench-app',
    'key' => $options['key'] ?? 'bench-key',
    'secret' => $options['secret'] ?? 'bench-secret',
];
$data = json_encode(['message' => 'hello', 'sent_at' => microtime(true)]);
$results = ['scenario' => 'php-publish'];

/** Runs $call $calls times; returns the calls and the wall and CPU microseconds per call. */
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
    return ['calls' => $calls, 'wall_us' => round($wall, 2), 'php_cpu_us' => round($cpu / $calls, 2)];
}

if (!isset($options['no-in-process'])) {
    // In-process: the server runs here.
    $server = new ReverbRs\Server([
        'servers' => ['reverb' => ['host' => '127.0.0.1', 'port' => 0]],
        'apps' => ['apps' => [$app]],
    ]);
    $server->start();
    $results['in_process'] = measure($calls * 10, fn () => $server->publish($app['app_id'], ['bench'], 'tick', $data));
    $server->stop(0.1);
}

// The other modes talk to a server in another process: the one given, or a reverb-rs server
// started here, pinned to core 1 when possible.
$process = null;
if (isset($options['port'])) {
    $port = (int) $options['port'];
} else {
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
}

$client = new ReverbRs\Client($app + ['host' => '127.0.0.1', 'port' => $port]);
$results['client_keep_alive'] = measure($calls, fn () => $client->trigger('bench', 'tick', $data));

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
    if ($socket === false) {
        throw new RuntimeException("cannot connect to 127.0.0.1:{$port}: {$error}");
    }
    fwrite($socket, "POST {$path}?" . http_build_query($params) . " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        . "Content-Type: application/json\r\nContent-Length: " . strlen($body) . "\r\nConnection: close\r\n\r\n{$body}");
    $response = stream_get_contents($socket);
    fclose($socket);
    if (!preg_match('#^HTTP/1\.[01] 200#', (string) $response)) {
        throw new RuntimeException("publish failed: {$response}");
    }
};
$results['fresh_connection'] = measure(intdiv($calls, 4), $fresh);

echo json_encode($results), "\n";

if ($process !== null) {
    proc_terminate($process);
    proc_close($process);
}
