<?php

declare(strict_types=1);

namespace ReverbRs\Tests;

use ReverbRs\ConfigException;
use ReverbRs\Server;

final class ConfigTest extends ExtensionTestCase
{
    private const APP = ['app_id' => '1', 'key' => 'k', 'secret' => 's'];

    /** @dataProvider badConfigs */
    public function testBadValuesThrowNamingTheKey(array $config, string $message): void
    {
        $this->expectException(ConfigException::class);
        $this->expectExceptionMessage($message);
        new Server($config);
    }

    public function badConfigs(): iterable
    {
        yield 'non-numeric size' => [
            ['apps' => ['apps' => [self::APP + ['max_message_size' => 'big']]]],
            'apps.apps.0.max_message_size must be an integer',
        ];
        yield 'port out of range' => [
            ['servers' => ['reverb' => ['port' => 70000]], 'apps' => ['apps' => [self::APP]]],
            'servers.reverb.port must be an integer between 0 and 65535, got 70000',
        ];
        yield 'missing secret' => [
            ['apps' => ['apps' => [['app_id' => '1', 'key' => 'k']]]],
            'apps.apps.0.secret is required',
        ];
        yield 'unknown client events mode' => [
            ['apps' => ['apps' => [self::APP + ['accept_client_events_from' => 'friends']]]],
            'apps.apps.0.accept_client_events_from must be one of',
        ];
        yield 'origins not a list' => [
            ['apps' => ['apps' => [self::APP + ['allowed_origins' => 'example.com']]]],
            'apps.apps.0.allowed_origins must be a list of strings',
        ];
        yield 'no apps' => [[], 'apps.apps must list at least one app'];
    }

    public function testEnvStringsAndUnknownKeysAreAccepted(): void
    {
        $server = new Server([
            'default' => 'reverb',
            'servers' => ['reverb' => ['host' => '127.0.0.1', 'port' => '0', 'pulse_ingest_interval' => 15]],
            'apps' => ['provider' => 'config', 'apps' => [self::APP + [
                'max_message_size' => '20000',
                'ping_interval' => '60',
                'max_connections' => null,
                'options' => ['host' => 'localhost', 'port' => 443, 'scheme' => 'https', 'useTLS' => true],
            ]]],
        ]);
        $server->start();

        $this->assertTrue($server->isRunning());
        $server->stop(0.1);
    }

    public function testThePackagesConfigWithAWebhookUrlIsAccepted(): void
    {
        $variables = [
            'REVERB_APP_ID' => '1',
            'REVERB_APP_KEY' => 'k',
            'REVERB_APP_SECRET' => 's',
            'REVERB_WEBHOOK_URL' => 'https://app.test/pusher/webhooks',
            'REVERB_WEBHOOK_EVENTS' => 'true',
            'REVERB_SUBSCRIPTION_COUNT' => 'true',
        ];
        $_ENV += $variables;
        $_SERVER += $variables;
        try {
            $config = require dirname(__DIR__, 2) . '/php/config/reverb.php';
        } finally {
            foreach (array_keys($variables) as $name) {
                unset($_ENV[$name], $_SERVER[$name]);
            }
        }

        $this->assertInstanceOf(Server::class, new Server($config));
    }
}
