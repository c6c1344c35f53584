<?php

declare(strict_types=1);

namespace ReverbRs\Tests\Laravel;

use ReverbRs\Laravel\Exceptions\InvalidApp;
use ReverbRs\Laravel\Pulse\ConnectionCounter;
use ReverbRs\Tests\ServerTestCase;
use ReverbRs\Tests\Support\WebSocketClient;
use RuntimeException;

/**
 * How the Pulse connections recorder asks a server for an app's connections: a signed
 * `GET /apps/{id}/connections` to where the app's options point, or, for an app without
 * options (a `reverb_apps` row), to where the `reverb` broadcast connection points.
 */
final class PulseConnectionsTest extends ServerTestCase
{
    /** An app of config/reverb.php pointing at the server on `$port`. */
    private static function app(int $port, array $options = [], string $secret = 'secret-1'): array
    {
        return [
            'app_id' => 'app-1',
            'key' => 'key-1',
            'secret' => $secret,
            'options' => $options + ['host' => '127.0.0.1', 'port' => $port, 'scheme' => 'http'],
        ];
    }

    public function testItCountsTheAppsOpenSockets(): void
    {
        $server = $this->startServer();
        $counter = new ConnectionCounter();
        $this->assertSame(0, $counter->count(self::app($server->port())));

        $clients = [];
        for ($i = 0; $i < 2; $i++) {
            $clients[$i] = new WebSocketClient($server->port(), '/app/key-1?protocol=7');
            $clients[$i]->receiveEvent('pusher:connection_established');
        }
        $this->assertSame(2, $counter->count(self::app($server->port())));
        $clients[0]->close();
        $deadline = microtime(true) + 5;
        while ($counter->count(self::app($server->port())) !== 1 && microtime(true) < $deadline) {
            usleep(20_000);
        }
        $this->assertSame(1, $counter->count(self::app($server->port())));
    }

    public function testEachServedAppIsCountedAndAppsWithoutOptionsAreAskedWhereTheAppPublishes(): void
    {
        $config = self::config();
        $config['apps']['apps'][] = ['app_id' => 'shop-2', 'key' => 'key-2', 'secret' => 'secret-2'];
        $server = $this->startServer($config);
        $client = new WebSocketClient($server->port(), '/app/key-2?protocol=7');
        $client->receiveEvent('pusher:connection_established');

        $counts = (new ConnectionCounter())->countEach([
            self::app($server->port()),
            ['app_id' => 'shop-2', 'key' => 'key-2', 'secret' => 'secret-2', 'enabled' => true],
            new InvalidApp('shop-3', 'reverb_apps row', 'allowed_origins must be a JSON list'),
            ['app_id' => 'shop-4', 'key' => 'key-4', 'secret' => 'secret-4', 'enabled' => false],
        ], ['host' => '127.0.0.1', 'port' => $server->port(), 'scheme' => 'http']);

        $this->assertSame(['app-1' => 0, 'shop-2' => 1], $counts);
    }

    public function testItFollowsThePathPrefixAndUseTls(): void
    {
        $server = $this->startServer(self::config([], ['path' => '/ws']));

        $this->assertSame(0, (new ConnectionCounter())->count(self::app($server->port(), [
            'path' => '/ws/',
            'scheme' => null,
            'useTLS' => false,
        ])));
    }

    public function testARefusedRequestThrowsWithTheServersAnswer(): void
    {
        $server = $this->startServer();

        $this->expectException(RuntimeException::class);
        $this->expectExceptionMessageMatches(
            '{^GET http://127\.0\.0\.1:\d+/apps/app-1/connections answered 401: .*signature}'
        );
        (new ConnectionCounter())->count(self::app($server->port(), [], 'wrong-secret'));
    }

    public function testAServerThatIsNotThereThrowsSayingWhere(): void
    {
        $server = $this->startServer();
        $port = $server->port();
        $server->stop(0);

        $this->expectException(RuntimeException::class);
        $this->expectExceptionMessage("GET http://127.0.0.1:{$port}/apps/app-1/connections failed");
        (new ConnectionCounter())->count(self::app($port));
    }
}
