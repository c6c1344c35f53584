<?php

declare(strict_types=1);

namespace ReverbRs\Tests;

use ReverbRs\Server;

/** Starts servers on free loopback ports and stops them after each test. */
abstract class ServerTestCase extends ExtensionTestCase
{
    /** @var Server[] */
    private array $servers = [];

    protected function tearDown(): void
    {
        foreach ($this->servers as $server) {
            $server->stop(0.5);
        }
        $this->servers = [];
    }

    protected static function config(array $app = [], array $server = []): array
    {
        return [
            'servers' => ['reverb' => $server + ['host' => '127.0.0.1', 'port' => 0]],
            'apps' => ['apps' => [$app + ['app_id' => 'app-1', 'key' => 'key-1', 'secret' => 'secret-1']]],
        ];
    }

    protected function startServer(array $config = null): Server
    {
        $server = new Server($config ?? self::config());
        $server->start();
        $this->servers[] = $server;
        return $server;
    }

    /** Drains events until one of `$type` arrives (bounded), returning it. */
    protected static function waitForEvent(Server $server, string $type, float $seconds = 5.0): array
    {
        $deadline = microtime(true) + $seconds;
        while (microtime(true) < $deadline) {
            $server->wait(100);
            foreach ($server->drain() as $event) {
                if ($event['type'] === $type) {
                    return $event;
                }
            }
        }
        self::fail("no {$type} event within {$seconds} s");
    }

    /** Runs PHP code in a separate process with the extension loaded: [exit code, output, seconds]. */
    protected static function runPhp(string $code): array
    {
        $command = [PHP_BINARY, '-d', 'extension=' . self::extensionPath(), '-r', $code];
        $started = microtime(true);
        $process = proc_open($command, [1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes);
        $output = stream_get_contents($pipes[1]) . stream_get_contents($pipes[2]);
        $exitCode = proc_close($process);
        return [$exitCode, $output, microtime(true) - $started];
    }

    protected static function extensionPath(): string
    {
        return getenv('REVERB_RS_EXTENSION') ?: dirname(__DIR__, 2) . '/target/release/libreverb_rs.so';
    }
}
