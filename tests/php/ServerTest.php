<?php

declare(strict_types=1);

namespace ReverbRs\Tests;

use ReverbRs\Server;
use ReverbRs\ServerException;
use ReverbRs\Tests\Support\WebSocketClient;

final class ServerTest extends ServerTestCase
{
    public function testStartBindsAFreePortWhenPortIsZero(): void
    {
        $server = $this->startServer();

        $this->assertTrue($server->isRunning());
        $this->assertGreaterThan(0, $server->port());
        $this->assertGreaterThan(2, $server->eventFd());
    }

    public function testPublishDeliversToSubscribersExceptTheExcludedSocket(): void
    {
        $server = $this->startServer();
        $alice = new WebSocketClient($server->port(), '/app/key-1');
        $bob = new WebSocketClient($server->port(), '/app/key-1');
        $aliceId = json_decode($alice->receiveEvent('pusher:connection_established')['data'], true)['socket_id'];
        $bob->receiveEvent('pusher:connection_established');
        foreach ([$alice, $bob] as $client) {
            $client->send(['event' => 'pusher:subscribe', 'data' => ['channel' => 'orders']]);
            $this->assertSame('orders', $client->receiveEvent('pusher_internal:subscription_succeeded')['channel']);
        }

        $server->publish('app-1', ['orders'], 'created', '{"id":1}', $aliceId);
        $server->publish('app-1', ['orders'], 'shipped', '{"id":1}');

        $this->assertSame(
            ['event' => 'created', 'data' => '{"id":1}', 'channel' => 'orders'],
            $bob->receive()
        );
        $this->assertSame('shipped', $bob->receive()['event']);
        $this->assertSame('shipped', $alice->receive()['event'], 'alice was excluded from "created" only');
    }

    public function testDrainReportsEngineEventsAndWaitWakesUp(): void
    {
        $server = $this->startServer();
        $client = new WebSocketClient($server->port(), '/app/key-1');
        $client->receiveEvent('pusher:connection_established');

        $opened = self::waitForEvent($server, 'connection_opened');
        $this->assertSame('app-1', $opened['app_id']);
        $this->assertMatchesRegularExpression('/^\d+\.\d+$/', $opened['socket_id']);

        $client->send(['event' => 'pusher:subscribe', 'data' => ['channel' => 'news']]);
        $subscribed = self::waitForEvent($server, 'subscribed');
        $this->assertSame(['type', 'app_id', 'socket_id', 'channel'], array_keys($subscribed));
        $this->assertSame($opened['socket_id'], $subscribed['socket_id']);
        $this->assertSame('news', $subscribed['channel']);

        $client->close();
        $this->assertSame($opened['socket_id'], self::waitForEvent($server, 'connection_closed')['socket_id']);
        $this->assertSame(0, $server->wait(10), 'nothing left to report');
    }

    public function testStatsCountConnectionsChannelsAndMessages(): void
    {
        $server = $this->startServer();
        $client = new WebSocketClient($server->port(), '/app/key-1');
        $client->receiveEvent('pusher:connection_established');
        $client->send(['event' => 'pusher:subscribe', 'data' => ['channel' => 'a']]);
        $client->receiveEvent('pusher_internal:subscription_succeeded');

        $stats = $server->stats()['app-1'];

        $this->assertSame(1, $stats['connections']);
        $this->assertSame(1, $stats['channels']);
        $this->assertSame(1, $stats['messages_in']);
        $this->assertSame(2, $stats['messages_out']);
    }

    public function testPublishToAnUnknownAppThrows(): void
    {
        $server = $this->startServer();

        $this->expectException(ServerException::class);
        $this->expectExceptionMessage('no app with id "missing"');
        $server->publish('missing', ['a'], 'e', '{}');
    }

    public function testBindFailuresThrowWithTheOsReason(): void
    {
        $first = $this->startServer();
        $second = new Server(self::config([], ['port' => $first->port()]));

        $this->expectException(ServerException::class);
        $this->expectExceptionMessageMatches('/127\.0\.0\.1:\d+: Address already in use/');
        $second->start();
    }

    public function testMethodsNeedAStartedServer(): void
    {
        $server = new Server(self::config());

        $this->assertFalse($server->isRunning());
        $this->expectException(ServerException::class);
        $this->expectExceptionMessage('call start() first');
        $server->port();
    }

    public function testStopClosesSocketsWithReconnectCodeAndIsIdempotent(): void
    {
        $server = $this->startServer();
        $port = $server->port();
        $client = new WebSocketClient($port, '/app/key-1');
        $client->receiveEvent('pusher:connection_established');

        $server->stop(2.0);
        $server->stop();

        $this->assertSame(4200, $client->receiveEvent('never')['close']);
        $this->assertFalse($server->isRunning());
        $this->assertFalse(@stream_socket_client("tcp://127.0.0.1:{$port}", $errno, $error, 1.0));
    }

    public function testAStoppedServerCanStartAgainOnTheSamePort(): void
    {
        $server = $this->startServer(self::config());
        $port = $server->port();
        $server->stop();

        $again = $this->startServer(self::config([], ['port' => $port]));

        $this->assertSame($port, $again->port());
    }
}
