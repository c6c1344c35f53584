<?php

declare(strict_types=1);

namespace ReverbRs\Tests;

use ReverbRs\ServerException;

/** How the server lives with PHP: signals, fork, and scripts that end without stop(). */
final class LifecycleTest extends ServerTestCase
{
    public function testSigtermInterruptsWaitAndRunsThePcntlHandler(): void
    {
        $server = $this->startServer();
        $handled = false;
        pcntl_async_signals(true);
        pcntl_signal(SIGTERM, function () use (&$handled): void {
            $handled = true;
        });
        $pid = getmypid();
        exec("(sleep 0.3; kill -TERM {$pid}) > /dev/null 2>&1 &");

        $started = microtime(true);
        $result = $server->wait(10_000);
        $elapsed = microtime(true) - $started;
        pcntl_signal(SIGTERM, SIG_DFL);

        $this->assertSame(-1, $result);
        $this->assertTrue($handled, 'the pcntl handler ran');
        $this->assertLessThan(5.0, $elapsed, 'wait() returned long before its timeout');
        $this->assertTrue($server->isRunning(), 'a signal alone does not stop the server');
    }

    public function testMethodsThrowInAForkedChildAndTheParentKeepsServing(): void
    {
        $server = $this->startServer();
        $pid = pcntl_fork();
        if ($pid === 0) {
            try {
                $server->port();
                $code = 1;
            } catch (ServerException $e) {
                $code = str_contains($e->getMessage(), 'forked child') ? 0 : 2;
            }
            exit($code);
        }
        pcntl_waitpid($pid, $status);

        $this->assertSame(0, pcntl_wexitstatus($status), 'the child saw a ServerException about forking');
        $this->assertTrue($server->isRunning());
        $client = new Support\WebSocketClient($server->port(), '/app/key-1');
        $this->assertSame('pusher:connection_established', $client->receive()['event']);
    }

    public function testAScriptThatEndsWithoutStopExitsCleanly(): void
    {
        [$exitCode, $output, $seconds] = self::runPhp(<<<'PHP'
            $server = new ReverbRs\Server([
                'servers' => ['reverb' => ['host' => '127.0.0.1', 'port' => 0]],
                'apps' => ['apps' => [['app_id' => '1', 'key' => 'k', 'secret' => 's']]],
            ]);
            $server->start();
            $GLOBALS['kept'] = $server;
            echo "started on ", $server->port();
            PHP);

        $this->assertSame(0, $exitCode, $output);
        $this->assertStringStartsWith('started on ', $output);
        $this->assertLessThan(5.0, $seconds);
    }

    public function testAnUncaughtExceptionWithARunningServerDoesNotHang(): void
    {
        [$exitCode, $output] = self::runPhp(<<<'PHP'
            $server = new ReverbRs\Server([
                'servers' => ['reverb' => ['host' => '127.0.0.1', 'port' => 0]],
                'apps' => ['apps' => [['app_id' => '1', 'key' => 'k', 'secret' => 's']]],
            ]);
            $server->start();
            throw new RuntimeException('boom');
            PHP);

        $this->assertSame(255, $exitCode);
        $this->assertStringContainsString('boom', $output);
    }
}
