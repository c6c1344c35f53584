<?php

declare(strict_types=1);

namespace ReverbRs\Tests;

use ReverbRs\ApiException;
use ReverbRs\Client;
use ReverbRs\ConfigException;
use ReverbRs\Server;
use ReverbRs\Tests\Support\WebSocketClient;

/** ReverbRs\Client against a reverb-rs server, plus the Server's own query methods. */
final class ClientTest extends ServerTestCase
{
    private function client(Server $server, array $options = []): Client
    {
        return new Client($options + [
            'key' => 'key-1', 'secret' => 'secret-1', 'app_id' => 'app-1',
            'host' => '127.0.0.1', 'port' => $server->port(),
        ]);
    }

    private static function subscribed(Server $server, string $channel, array $extra = []): WebSocketClient
    {
        $socket = new WebSocketClient($server->port(), '/app/key-1');
        $socketId = json_decode($socket->receiveEvent('pusher:connection_established')['data'], true)['socket_id'];
        $data = ['channel' => $channel];
        if (str_starts_with($channel, 'presence-')) {
            $data['channel_data'] = json_encode(['user_id' => $extra['user_id'], 'user_info' => []]);
            $data['auth'] = 'key-1:' . hash_hmac('sha256', "{$socketId}:{$channel}:{$data['channel_data']}", 'secret-1');
        }
        $socket->send(['event' => 'pusher:subscribe', 'data' => $data]);
        $socket->receiveEvent('pusher_internal:subscription_succeeded');
        return $socket;
    }

    public function testTriggerDeliversToSubscribersAndReportsInfo(): void
    {
        $server = $this->startServer();
        $socket = self::subscribed($server, 'orders');

        $answer = $this->client($server)->trigger('orders', 'created', '{"id":7}', null, ['subscription_count']);

        $this->assertSame(['channels' => ['orders' => ['subscription_count' => 1]]], $answer);
        $this->assertSame(
            ['event' => 'created', 'data' => '{"id":7}', 'channel' => 'orders'],
            $socket->receive()
        );
    }

    public function testBatchChannelQueriesAndUsers(): void
    {
        $server = $this->startServer();
        $socket = self::subscribed($server, 'presence-room', ['user_id' => 42]);
        $client = $this->client($server);

        $this->assertSame(['batch' => []], $client->triggerBatch([
            ['channel' => 'presence-room', 'name' => 'a', 'data' => '1'],
            ['channel' => 'presence-room', 'name' => 'b', 'data' => '2'],
        ]));
        $this->assertSame('a', $socket->receive()['event']);
        $this->assertSame('b', $socket->receive()['event']);
        $this->assertSame(
            ['channels' => ['presence-room' => ['user_count' => 1]]],
            $client->channels('presence-', ['user_count'])
        );
        $this->assertSame(['occupied' => true, 'user_count' => 1], $client->channel('presence-room', ['user_count']));
        $this->assertSame(['users' => [['id' => 42]]], $client->users('presence-room'));

        $this->assertSame(['presence-room' => ['subscription_count' => 1, 'user_count' => 1]], $server->channels('app-1'));
        $this->assertSame([42], $server->users('app-1', 'presence-room'));
        $this->assertTrue($server->channel('app-1', 'presence-room')['occupied']);
    }

    public function testTerminateClosesTheUsersSockets(): void
    {
        $server = $this->startServer();
        $socket = self::subscribed($server, 'presence-room', ['user_id' => 'u1']);

        $this->client($server)->terminateUserConnections('u1');

        $this->assertSame(4009, $socket->receiveEvent('never')['close']);
    }

    public function testSendToUserReachesTheSignedInUser(): void
    {
        $server = $this->startServer();
        $socket = new WebSocketClient($server->port(), '/app/key-1');
        $socketId = json_decode($socket->receiveEvent('pusher:connection_established')['data'], true)['socket_id'];
        $userData = '{"id":"u1"}';
        $socket->send(['event' => 'pusher:signin', 'data' => [
            'user_data' => $userData,
            'auth' => 'key-1:' . hash_hmac('sha256', "{$socketId}::user::{$userData}", 'secret-1'),
        ]]);
        $socket->receiveEvent('pusher:signin_success');
        $socket->send(['event' => 'pusher:subscribe', 'data' => ['channel' => '#server-to-user-u1']]);
        $socket->receiveEvent('pusher_internal:subscription_succeeded');

        $this->client($server)->sendToUser('u1', 'notice', '{"text":"hi"}');

        $this->assertSame(
            ['event' => 'notice', 'data' => '{"text":"hi"}', 'channel' => '#server-to-user-u1'],
            $socket->receive()
        );
    }

    public function testServerErrorsBecomeApiExceptionsWithTheStatus(): void
    {
        $server = $this->startServer();

        try {
            $this->client($server, ['secret' => 'wrong'])->trigger('a', 'e', '{}');
            $this->fail('a wrong secret was accepted');
        } catch (ApiException $e) {
            $this->assertSame(401, $e->getCode());
            $this->assertStringContainsString('Authentication signature invalid', $e->getMessage());
        }
        try {
            $this->client($server)->users('not-presence');
            $this->fail('users() of a public channel succeeded');
        } catch (ApiException $e) {
            $this->assertSame(400, $e->getCode());
        }
    }

    public function testAnUnreachableServerThrowsWithCodeZero(): void
    {
        $server = $this->startServer();
        $port = $server->port();
        $server->stop(0.1);

        $this->expectException(ApiException::class);
        $this->expectExceptionCode(0);
        (new Client(['key' => 'k', 'secret' => 's', 'app_id' => '1', 'port' => $port, 'timeout' => 1]))
            ->trigger('a', 'e', '{}');
    }

    public function testBadOptionsNameTheOption(): void
    {
        $this->expectException(ConfigException::class);
        $this->expectExceptionMessage('scheme must be "http" or "https"');
        new Client(['key' => 'k', 'secret' => 's', 'app_id' => '1', 'scheme' => 'ftp']);
    }

    public function testTheConnectionIsReusedAcrossCalls(): void
    {
        $server = $this->startServer();
        $port = $server->port();
        $client = $this->client($server);
        for ($i = 0; $i < 20; $i++) {
            $client->trigger('a', 'e', '{}');
        }

        // A connection closed after each call would leave one TIME-WAIT socket per call.
        $closed = (string) shell_exec("ss -tan state time-wait '( sport = :{$port} or dport = :{$port} )' | tail -n +2");
        $this->assertLessThan(3, substr_count($closed, "\n"), "connections were not kept alive:\n{$closed}");
    }
}
