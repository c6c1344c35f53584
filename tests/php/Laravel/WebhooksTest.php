<?php

declare(strict_types=1);

namespace ReverbRs\Tests\Laravel;

use Illuminate\Config\Repository;
use Illuminate\Console\OutputStyle;
use Illuminate\Container\Container;
use Illuminate\Events\Dispatcher;
use PHPUnit\Framework\TestCase;
use ReflectionMethod;
use ReverbRs\Laravel\ApplicationManager;
use ReverbRs\Laravel\Console\StartCommand;
use ReverbRs\Laravel\Events;
use Symfony\Component\Console\Input\ArrayInput;
use Symfony\Component\Console\Output\BufferedOutput;

/**
 * Webhooks in the Laravel package: the published config and its variables, `reverb:start`'s
 * completion of an older config from the same variables, and the Laravel events the engine's
 * webhook events become. The command's loop needs a running server, so these call the methods
 * it builds the server's config with and hands every drained batch to.
 */
final class WebhooksTest extends TestCase
{
    private const VARIABLES = [
        'REVERB_WEBHOOK_URL',
        'REVERB_WEBHOOK_EVENTS',
        'REVERB_SUBSCRIPTION_COUNT',
        'REVERB_APP_KEY',
    ];

    private const URL = 'https://app.test/pusher/webhooks';

    private Container $app;

    /** @var object[] */
    private array $dispatched = [];

    private BufferedOutput $output;

    protected function setUp(): void
    {
        $this->app = new Container();
        Container::setInstance($this->app);
        $events = new Dispatcher($this->app);
        $events->listen('*', function (string $name, array $payload): void {
            $this->dispatched[] = $payload[0];
        });
        $this->app->instance('events', $events);
        $this->output = new BufferedOutput();
        $this->setEnvironment([]);
    }

    protected function tearDown(): void
    {
        Container::setInstance(null);
        $this->setEnvironment([]);
    }

    public function testThePublishedConfigHasNoWebhooksUntilAUrlIsSet(): void
    {
        $config = require dirname(__DIR__, 3) . '/php/config/reverb.php';

        $this->assertSame([], $config['apps']['apps'][0]['webhooks']);
        $this->assertFalse($config['apps']['apps'][0]['subscription_count']);
        $this->assertSame([
            'dispatch_events' => false,
            'delay_ms' => 3000,
            'batch_ms' => 50,
            'batch_size' => 50,
            'timeout' => 4,
            'retry_for' => 300,
            'queue_size' => 10_000,
        ], $config['servers']['reverb']['webhooks']);
    }

    public function testThePublishedConfigTakesTheUrlAndTheSwitchesFromTheEnvironment(): void
    {
        $this->setEnvironment([
            'REVERB_WEBHOOK_URL' => self::URL,
            'REVERB_WEBHOOK_EVENTS' => 'true',
            'REVERB_SUBSCRIPTION_COUNT' => 'true',
        ]);

        $config = require dirname(__DIR__, 3) . '/php/config/reverb.php';

        $this->assertSame([['url' => self::URL]], $config['apps']['apps'][0]['webhooks']);
        $this->assertTrue($config['apps']['apps'][0]['subscription_count']);
        $this->assertTrue($config['servers']['reverb']['webhooks']['dispatch_events']);
    }

    public function testAnOlderConfigGetsTheUrlOnTheAppOfReverbAppKeyAndTheEventsSwitch(): void
    {
        $this->setEnvironment([
            'REVERB_WEBHOOK_URL' => self::URL,
            'REVERB_WEBHOOK_EVENTS' => 'true',
            'REVERB_APP_KEY' => 'key-2',
        ]);

        $config = $this->serverConfig(self::olderConfig());

        $this->assertArrayNotHasKey('webhooks', $config['apps']['apps'][0]);
        $this->assertSame([['url' => self::URL]], $config['apps']['apps'][1]['webhooks']);
        $this->assertSame(['dispatch_events' => true], $config['servers']['reverb']['webhooks']);
    }

    public function testWithoutTheAppOfReverbAppKeyTheFirstAppGetsTheUrl(): void
    {
        $this->setEnvironment(['REVERB_WEBHOOK_URL' => self::URL, 'REVERB_APP_KEY' => 'key-9']);

        $config = $this->serverConfig(self::olderConfig());

        $this->assertSame([['url' => self::URL]], $config['apps']['apps'][0]['webhooks']);
        $this->assertArrayNotHasKey('webhooks', $config['apps']['apps'][1]);
        $this->assertArrayNotHasKey('webhooks', $config['servers']['reverb']);
    }

    public function testWhatTheConfigSaysWinsOverTheEnvironment(): void
    {
        $this->setEnvironment([
            'REVERB_WEBHOOK_URL' => self::URL,
            'REVERB_WEBHOOK_EVENTS' => 'true',
            'REVERB_APP_KEY' => 'key-1',
        ]);
        $older = self::olderConfig();
        $older['apps']['apps'][0]['webhooks'] = [];
        $older['servers']['reverb']['webhooks'] = ['dispatch_events' => false, 'delay_ms' => 0];

        $config = $this->serverConfig($older);

        $this->assertSame([], $config['apps']['apps'][0]['webhooks']);
        $this->assertSame(['dispatch_events' => false, 'delay_ms' => 0], $config['servers']['reverb']['webhooks']);
    }

    public function testAnEmptyUrlMeansNoWebhooks(): void
    {
        $this->setEnvironment(['REVERB_WEBHOOK_URL' => '', 'REVERB_APP_KEY' => 'key-1']);

        $config = $this->serverConfig(self::olderConfig());

        $this->assertArrayNotHasKey('webhooks', $config['apps']['apps'][0]);
    }

    /** @dataProvider webhookEvents */
    public function testEachWebhookEventBecomesItsLaravelEvent(array $engineEvent, object $expected): void
    {
        $this->handleEvents([$engineEvent + ['type' => 'webhook', 'app_id' => 'app-1']]);

        $this->assertEquals([$expected], $this->dispatched);
    }

    /** The events as the engine reports them (`type` and `app_id` added by the test). */
    public function webhookEvents(): iterable
    {
        yield 'channel_occupied' => [
            ['name' => 'channel_occupied', 'channel' => 'news'],
            new Events\ChannelOccupied('app-1', 'news'),
        ];
        yield 'channel_vacated' => [
            ['name' => 'channel_vacated', 'channel' => 'news'],
            new Events\ChannelVacated('app-1', 'news'),
        ];
        yield 'member_added' => [
            ['name' => 'member_added', 'channel' => 'presence-room', 'user_id' => '7'],
            new Events\MemberAdded('app-1', 'presence-room', '7'),
        ];
        yield 'member_removed' => [
            ['name' => 'member_removed', 'channel' => 'presence-room', 'user_id' => '7'],
            new Events\MemberRemoved('app-1', 'presence-room', '7'),
        ];
        yield 'client_event on a private channel' => [
            ['name' => 'client_event', 'channel' => 'private-chat', 'event' => 'client-typing',
                'data' => '{"on":true}', 'socket_id' => '1.2'],
            new Events\ClientEvent('app-1', 'private-chat', 'client-typing', '{"on":true}', '1.2', null),
        ];
        yield 'client_event on a presence channel' => [
            ['name' => 'client_event', 'channel' => 'presence-room', 'event' => 'client-typing',
                'data' => '{}', 'socket_id' => '1.2', 'user_id' => '7'],
            new Events\ClientEvent('app-1', 'presence-room', 'client-typing', '{}', '1.2', '7'),
        ];
        yield 'cache_miss' => [
            ['name' => 'cache_miss', 'channel' => 'cache-scores'],
            new Events\CacheMiss('app-1', 'cache-scores'),
        ];
        yield 'subscription_count' => [
            ['name' => 'subscription_count', 'channel' => 'news', 'subscription_count' => 3],
            new Events\SubscriptionCount('app-1', 'news', 3),
        ];
    }

    public function testWebhookEventsAreDispatchedWithoutTheSocketEventsAndUnknownNamesAreIgnored(): void
    {
        $this->handleEvents([
            ['type' => 'subscribed', 'app_id' => 'app-1', 'socket_id' => '1.2', 'channel' => 'news'],
            ['type' => 'webhook', 'app_id' => 'app-1', 'name' => 'member_updated', 'channel' => 'presence-room'],
            ['type' => 'webhook', 'app_id' => 'app-1', 'name' => 'channel_occupied', 'channel' => 'news'],
        ], dispatchSocketEvents: false);

        $this->assertEquals([new Events\ChannelOccupied('app-1', 'news')], $this->dispatched);
    }

    public function testAFailingEndpointIsAWarningNamingTheAppTheUrlAndTheError(): void
    {
        $this->handleEvents([[
            'type' => 'webhook_failing',
            'app_id' => 'app-1',
            'url' => 'https://app.test/pusher/webhooks',
            'error' => 'HTTP 500',
        ]]);

        $this->assertSame(
            "Webhook https://app.test/pusher/webhooks of app app-1 is failing (HTTP 500): retrying.\n",
            $this->output->fetch()
        );
        $this->assertSame([], $this->dispatched);
    }

    public function testDebugPrintsEachWebhookEventWithItsFields(): void
    {
        $this->handleEvents([
            ['type' => 'webhook', 'app_id' => 'app-1', 'name' => 'member_added', 'channel' => 'presence-room',
                'user_id' => '7'],
        ], debug: true);

        $this->assertSame(
            "Webhook member_added {\"channel\":\"presence-room\",\"user_id\":\"7\"}\n",
            $this->output->fetch()
        );
    }

    /** A config/reverb.php as laravel/reverb publishes it, with two apps. */
    private static function olderConfig(): array
    {
        $app = ['secret' => 'secret', 'allowed_origins' => ['*'], 'ping_interval' => 60];
        return [
            'default' => 'reverb',
            'servers' => ['reverb' => ['host' => '0.0.0.0', 'port' => 8080]],
            'apps' => ['provider' => 'config', 'apps' => [
                $app + ['key' => 'key-1', 'app_id' => 'app-1'],
                $app + ['key' => 'key-2', 'app_id' => 'app-2'],
            ]],
        ];
    }

    /** Sets the given variables the way a `.env` file does, and unsets the others. */
    private function setEnvironment(array $variables): void
    {
        foreach (self::VARIABLES as $name) {
            putenv($name);
            unset($_ENV[$name], $_SERVER[$name]);
            if (array_key_exists($name, $variables)) {
                $_ENV[$name] = $_SERVER[$name] = $variables[$name];
            }
        }
    }

    private function command(bool $debug = false): StartCommand
    {
        $command = new StartCommand();
        $command->setLaravel($this->app);
        $input = new ArrayInput($debug ? ['--debug' => true] : [], $command->getDefinition());
        $command->setInput($input);
        $command->setOutput(new OutputStyle($input, $this->output));

        return $command;
    }

    private function serverConfig(array $reverb): array
    {
        $this->app->instance('config', new Repository(['reverb' => $reverb]));
        $this->app->instance(ApplicationManager::class, new ApplicationManager($this->app));
        $command = $this->command();

        return (new ReflectionMethod($command, 'serverConfig'))->invoke($command);
    }

    private function handleEvents(array $events, bool $dispatchSocketEvents = true, bool $debug = false): void
    {
        $command = $this->command($debug);

        (new ReflectionMethod($command, 'handleEvents'))->invoke($command, $events, $dispatchSocketEvents);
    }
}
