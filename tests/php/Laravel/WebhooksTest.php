<?php

declare(strict_types=1);

namespace ReverbRs\Tests\Laravel;

use Illuminate\Console\OutputStyle;
use Illuminate\Container\Container;
use Illuminate\Events\Dispatcher;
use PHPUnit\Framework\TestCase;
use ReflectionMethod;
use ReverbRs\Laravel\Console\StartCommand;
use ReverbRs\Laravel\Events;
use Symfony\Component\Console\Input\ArrayInput;
use Symfony\Component\Console\Output\BufferedOutput;

/**
 * Webhooks in the Laravel package: the Laravel events the engine's webhook events become in
 * `reverb:start`, and what it prints. The command's loop needs a running server, so these call
 * the method it hands every drained batch to.
 */
final class WebhooksTest extends TestCase
{
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
    }

    protected function tearDown(): void
    {
        Container::setInstance(null);
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

    private function command(bool $debug = false): StartCommand
    {
        $command = new StartCommand();
        $command->setLaravel($this->app);
        $input = new ArrayInput($debug ? ['--debug' => true] : [], $command->getDefinition());
        $command->setInput($input);
        $command->setOutput(new OutputStyle($input, $this->output));

        return $command;
    }

    private function handleEvents(array $events, bool $dispatchSocketEvents = true, bool $debug = false): void
    {
        $command = $this->command($debug);

        (new ReflectionMethod($command, 'handleEvents'))->invoke($command, $events, $dispatchSocketEvents);
    }
}
