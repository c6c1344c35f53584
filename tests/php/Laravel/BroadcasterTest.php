<?php

declare(strict_types=1);

namespace ReverbRs\Tests\Laravel;

use Illuminate\Auth\GenericUser;
use Illuminate\Broadcasting\BroadcastException;
use Illuminate\Container\Container;
use Illuminate\Http\Request;
use ReverbRs\Laravel\Broadcasting\ReverbBroadcaster;
use ReverbRs\Server;
use ReverbRs\Tests\ServerTestCase;
use ReverbRs\Tests\Support\WebSocketClient;

/** The `reverb` broadcast driver: auth answers like PusherBroadcaster's, and both publish paths. */
final class BroadcasterTest extends ServerTestCase
{
    private const MASTER_KEY = 'MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=';

    private static function broadcaster(Container $container, array $options = []): ReverbBroadcaster
    {
        return new ReverbBroadcaster($container, [
            'driver' => 'reverb',
            'key' => 'key-1',
            'secret' => 'secret-1',
            'app_id' => 'app-1',
            'encryption_master_key_base64' => self::MASTER_KEY,
            'options' => $options,
        ]);
    }

    private static function authRequest(string $channel, string $socketId = '123.456'): Request
    {
        $request = Request::create('/broadcasting/auth', 'POST', ['channel_name' => $channel, 'socket_id' => $socketId]);
        $request->setUserResolver(fn () => new GenericUser(['id' => 7, 'name' => 'Ada']));
        return $request;
    }

    public function testPrivateChannelAuthIsThePusherSignature(): void
    {
        $response = self::broadcaster(new Container())
            ->validAuthenticationResponse(self::authRequest('private-orders.1'), true);

        $this->assertSame(
            ['auth' => 'key-1:' . hash_hmac('sha256', '123.456:private-orders.1', 'secret-1')],
            $response
        );
    }

    public function testPresenceAuthSignsChannelDataWithAStringUserId(): void
    {
        $response = self::broadcaster(new Container())
            ->validAuthenticationResponse(self::authRequest('presence-room.1'), ['name' => 'Ada']);

        $channelData = '{"user_id":"7","user_info":{"name":"Ada"}}';
        $this->assertSame([
            'auth' => 'key-1:' . hash_hmac('sha256', "123.456:presence-room.1:{$channelData}", 'secret-1'),
            'channel_data' => $channelData,
        ], $response);
    }

    public function testEncryptedChannelsGetTheDerivedSharedSecret(): void
    {
        $response = self::broadcaster(new Container())
            ->validAuthenticationResponse(self::authRequest('private-encrypted-vault'), true);

        $key = hash('sha256', 'private-encrypted-vault' . base64_decode(self::MASTER_KEY), true);
        $this->assertSame(base64_encode($key), $response['shared_secret']);
    }

    public function testAuthRunsTheChannelCallbacks(): void
    {
        $broadcaster = self::broadcaster(new Container());
        $broadcaster->channel('orders.{id}', fn ($user, $id) => (int) $id === 1);

        $this->assertArrayHasKey('auth', $broadcaster->auth(self::authRequest('private-orders.1')));
        $this->expectException(\Symfony\Component\HttpKernel\Exception\AccessDeniedHttpException::class);
        $broadcaster->auth(self::authRequest('private-orders.2'));
    }

    public function testBroadcastPublishesInProcessWhenTheServerRunsHere(): void
    {
        $server = $this->startServer();
        $container = new Container();
        $container->instance(Server::class, $server);
        [$alice, $aliceId] = $this->subscribe($server, 'orders');
        [$bob] = $this->subscribe($server, 'orders');

        self::broadcaster($container)->broadcast(['orders'], 'OrderShipped', ['id' => 1, 'socket' => $aliceId]);

        $this->assertSame(
            ['event' => 'OrderShipped', 'data' => '{"id":1}', 'channel' => 'orders'],
            $bob->receive()
        );
        $server->publish('app-1', ['orders'], 'marker', '{}');
        $this->assertSame('marker', $alice->receive()['event'], 'toOthers() skipped the sender');
    }

    public function testBroadcastUsesTheClientWhenNoServerRunsHere(): void
    {
        $server = $this->startServer();
        [$socket] = $this->subscribe($server, 'private-encrypted-vault', true);
        $options = ['host' => '127.0.0.1', 'port' => $server->port(), 'scheme' => 'http'];

        self::broadcaster(new Container(), $options)->broadcast(['private-encrypted-vault'], 'Secret', ['n' => 1]);

        $message = $socket->receive();
        $payload = json_decode($message['data'], true);
        $key = hash('sha256', 'private-encrypted-vault' . base64_decode(self::MASTER_KEY), true);
        $plain = sodium_crypto_secretbox_open(base64_decode($payload['ciphertext']), base64_decode($payload['nonce']), $key);
        $this->assertSame('{"n":1}', $plain);
    }

    public function testServerErrorsBecomeBroadcastExceptions(): void
    {
        $server = $this->startServer();
        $broadcaster = new ReverbBroadcaster(new Container(), [
            'key' => 'key-1', 'secret' => 'wrong', 'app_id' => 'app-1',
            'options' => ['host' => '127.0.0.1', 'port' => $server->port(), 'scheme' => 'http'],
        ]);

        $this->expectException(BroadcastException::class);
        $this->expectExceptionMessage('Pusher error: {"error":"Authentication signature invalid."}.');
        $broadcaster->broadcast(['orders'], 'e', []);
    }

    public function testMissingCredentialsSayWhichVariableToSet(): void
    {
        $this->expectException(BroadcastException::class);
        $this->expectExceptionMessage('REVERB_APP_KEY');
        (new ReverbBroadcaster(new Container(), ['secret' => 's', 'app_id' => '1']))->broadcast(['a'], 'e', []);
    }

    /** @return array{WebSocketClient, string} */
    private function subscribe(Server $server, string $channel, bool $signed = false): array
    {
        $socket = new WebSocketClient($server->port(), '/app/key-1');
        $socketId = json_decode($socket->receiveEvent('pusher:connection_established')['data'], true)['socket_id'];
        $data = ['channel' => $channel];
        if ($signed) {
            $data['auth'] = 'key-1:' . hash_hmac('sha256', "{$socketId}:{$channel}", 'secret-1');
        }
        $socket->send(['event' => 'pusher:subscribe', 'data' => $data]);
        $socket->receiveEvent('pusher_internal:subscription_succeeded');
        return [$socket, $socketId];
    }
}
