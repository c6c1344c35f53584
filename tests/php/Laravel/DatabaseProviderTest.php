<?php

declare(strict_types=1);

namespace ReverbRs\Tests\Laravel;

use PHPUnit\Framework\TestCase;
use ReverbRs\Laravel\Exceptions\InvalidApp;
use ReverbRs\Laravel\Models\ReverbApp;
use ReverbRs\Laravel\Providers\DatabaseApplicationProvider;
use ReverbRs\Tests\Support\AppDatabase;

/**
 * The `database` app provider on SQLite: the migration's table, the ReverbApp model and its
 * mapping of a row to an app entry, all() walking a large table in chunks, lookups by id and
 * key, and the report of a row that cannot be served, naming its id and column.
 */
final class DatabaseProviderTest extends TestCase
{
    private AppDatabase $database;

    protected function setUp(): void
    {
        $this->database = new AppDatabase(['apps' => ['database' => ['connection' => null, 'table' => 'reverb_apps']]]);
    }

    protected function tearDown(): void
    {
        $this->database->tearDown();
    }

    public function testARowWithOnlyItsCredentialsLeavesTheDefaultsToTheServer(): void
    {
        $this->database->insert(['id' => 'shop-1', 'key' => 'key-1', 'secret' => 'secret-1']);

        $this->assertSame(
            [['app_id' => 'shop-1', 'key' => 'key-1', 'secret' => 'secret-1', 'subscription_count' => false, 'enabled' => true]],
            [...$this->provider()->all()]
        );
    }

    public function testEveryColumnBecomesItsKeyOfAnAppEntry(): void
    {
        ReverbApp::create([
            'id' => 'shop-1',
            'key' => 'key-1',
            'secret' => 'secret-1',
            'allowed_origins' => ['shop.test', '*.shop.test'],
            'ping_interval' => 30,
            'activity_timeout' => 20,
            'max_connections' => 500,
            'max_message_size' => 20_000,
            'accept_client_events_from' => 'all',
            'rate_limiting' => ['enabled' => true, 'max_attempts' => 10, 'decay_seconds' => 1, 'terminate_on_limit' => false],
            'max_client_events_per_second' => 5,
            'max_channels_per_connection' => 50,
            'max_presence_members' => 200,
            'max_presence_user_info_bytes' => 1024,
            'max_channels_per_event' => 10,
            'max_events_per_batch' => 5,
            'cache_ttl' => 600,
            'webhooks' => [['url' => 'https://shop.test/hooks', 'event_types' => ['channel_occupied']]],
            'subscription_count' => true,
            'options' => ['host' => 'ws.shop.test', 'port' => 443, 'scheme' => 'https'],
            'enabled' => false,
        ]);

        $this->assertSame([
            'app_id' => 'shop-1',
            'key' => 'key-1',
            'secret' => 'secret-1',
            'allowed_origins' => ['shop.test', '*.shop.test'],
            'rate_limiting' => ['enabled' => true, 'max_attempts' => 10, 'decay_seconds' => 1, 'terminate_on_limit' => false],
            'webhooks' => [['url' => 'https://shop.test/hooks', 'event_types' => ['channel_occupied']]],
            'options' => ['host' => 'ws.shop.test', 'port' => 443, 'scheme' => 'https'],
            'ping_interval' => 30,
            'activity_timeout' => 20,
            'max_connections' => 500,
            'max_message_size' => 20_000,
            'max_client_events_per_second' => 5,
            'max_channels_per_connection' => 50,
            'max_presence_members' => 200,
            'max_presence_user_info_bytes' => 1024,
            'max_channels_per_event' => 10,
            'max_events_per_batch' => 5,
            'cache_ttl' => 600,
            'accept_client_events_from' => 'all',
            'subscription_count' => true,
            'enabled' => false,
        ], $this->provider()->findById('shop-1'));
    }

    public function testTheModelCastsItsColumnsForTheApplicationsOwnCode(): void
    {
        ReverbApp::create([
            'id' => 'shop-1',
            'key' => 'key-1',
            'secret' => 's',
            'allowed_origins' => ['a.test'],
            'ping_interval' => '45',
        ]);

        $app = ReverbApp::findOrFail('shop-1');

        $this->assertSame(['a.test'], $app->allowed_origins);
        $this->assertSame(45, $app->ping_interval);
        $this->assertTrue($app->enabled);
        $this->assertSame('shop-1', $app->getKey());
    }

    public function testAllWalksALargeTableInChunksInIdOrder(): void
    {
        $rows = [];
        for ($i = 0; $i < 2_345; $i++) {
            $rows[] = ['id' => sprintf('app-%05d', $i), 'key' => "key-{$i}", 'secret' => 's'];
        }
        foreach (array_chunk(array_reverse($rows), 500) as $chunk) {
            $this->database->connection()->table('reverb_apps')->insert($chunk);
        }
        $this->database->connection()->enableQueryLog();

        $ids = array_map(fn (array $app) => $app['app_id'], [...$this->provider()->all()]);

        $this->assertSame(array_column($rows, 'id'), $ids);
        $this->assertCount(3, $this->database->connection()->getQueryLog(), '2,345 rows are read 1,000 at a time');
    }

    public function testLookupsFindTheRowByIdOrByExactKey(): void
    {
        $this->database->insert(['id' => 'shop-1', 'key' => 'Key-One']);
        $this->database->insert(['id' => 'shop-2', 'key' => 'key-two']);

        $provider = $this->provider();

        $this->assertSame('shop-2', $provider->findByKey('key-two')['app_id']);
        $this->assertSame('Key-One', $provider->findById('shop-1')['key']);
        $this->assertNull($provider->findByKey('key-one'));
        $this->assertNull($provider->findById('SHOP-1'));
        $this->assertNull($provider->findById('shop-3'));
    }

    public function testACaseInsensitiveCollationDoesNotFindAnotherCaseOfAKey(): void
    {
        $this->database->connection()->statement('CREATE TABLE nocase_apps (id TEXT COLLATE NOCASE PRIMARY KEY, '
            . '"key" TEXT COLLATE NOCASE UNIQUE, secret TEXT, enabled INTEGER, subscription_count INTEGER)');
        $this->database->insert(['id' => 'Shop-1', 'key' => 'Key-One'], 'nocase_apps');

        $provider = new DatabaseApplicationProvider(null, 'nocase_apps');

        $this->assertNull($provider->findByKey('key-one'));
        $this->assertNull($provider->findById('shop-1'));
        $this->assertSame('Shop-1', $provider->findByKey('Key-One')['app_id']);
    }

    /** @dataProvider faultyRows */
    public function testAFaultyRowIsYieldedAsAnInvalidAppNamingItsIdAndColumn(array $row, string $message): void
    {
        $this->database->insert(['id' => 'shop-1']);
        $this->database->insert(['id' => 'shop-3'] + $row);
        $this->database->insert(['id' => 'shop-4']);

        $apps = [...$this->provider()->all()];

        $this->assertSame(['shop-1', 'shop-4'], array_column(array_filter($apps, 'is_array'), 'app_id'));
        $this->assertInstanceOf(InvalidApp::class, $apps[1]);
        $this->assertSame('shop-3', $apps[1]->appId);
        $this->assertSame($message, $apps[1]->getMessage());
    }

    /** Rows as the database holds them, and what is reported about each. */
    public function faultyRows(): iterable
    {
        yield 'origins not a list' => [
            ['allowed_origins' => '"*"'],
            "App 'shop-3' (reverb_apps row): allowed_origins must be a JSON list, got '\"*\"'",
        ];
        yield 'origins not JSON' => [
            ['allowed_origins' => '*.shop.test'],
            "App 'shop-3' (reverb_apps row): allowed_origins must be a JSON list, but is not JSON (Syntax error)",
        ];
        yield 'origins not strings' => [
            ['allowed_origins' => '["a.test", 3]'],
            "App 'shop-3' (reverb_apps row): allowed_origins must be a JSON list of strings, got '[\"a.test\", 3]'",
        ];
        yield 'webhooks an object' => [
            ['webhooks' => '{"url": "https://shop.test"}'],
            "App 'shop-3' (reverb_apps row): webhooks must be a JSON list, got '{\"url\": \"https://shop.test\"}'",
        ];
        yield 'webhooks of strings' => [
            ['webhooks' => '["https://shop.test"]'],
            "App 'shop-3' (reverb_apps row): webhooks must be a JSON list of objects, got '[\"https://shop.test\"]'",
        ];
        yield 'rate limiting a list' => [
            ['rate_limiting' => '[true, 60]'],
            "App 'shop-3' (reverb_apps row): rate_limiting must be a JSON object, got '[true, 60]'",
        ];
        yield 'options a number' => [
            ['options' => '443'],
            "App 'shop-3' (reverb_apps row): options must be a JSON object, got '443'",
        ];
        yield 'text in an integer column' => [
            ['ping_interval' => 'often'],
            "App 'shop-3' (reverb_apps row): ping_interval must be an integer, got 'often'",
        ];
        yield 'a fraction' => [
            ['max_connections' => 2.5],
            "App 'shop-3' (reverb_apps row): max_connections must be an integer, got '2.5'",
        ];
        yield 'text in a boolean column' => [
            ['enabled' => 'sometimes'],
            "App 'shop-3' (reverb_apps row): enabled must be a boolean, got 'sometimes'",
        ];
    }

    public function testAFaultyRowFoundByALookupIsThrown(): void
    {
        $this->database->insert(['id' => 'shop-3', 'key' => 'key-3', 'webhooks' => 'nope']);

        $this->expectException(InvalidApp::class);
        $this->expectExceptionMessage("App 'shop-3' (reverb_apps row): webhooks must be a JSON list, but is not JSON (Syntax error)");

        $this->provider()->findByKey('key-3');
    }

    public function testTheTableAndConnectionAreConfigurable(): void
    {
        $this->database->tearDown();
        $this->database = new AppDatabase(['apps' => ['database' => ['connection' => 'other', 'table' => 'tenant_apps']]]);
        $this->database->insert(['id' => 'shop-1'], 'tenant_apps');

        $provider = new DatabaseApplicationProvider('other', 'tenant_apps');

        $this->assertSame('shop-1', $provider->findById('shop-1')['app_id']);
        $this->assertSame('tenant_apps row', $provider->source());
        $this->assertSame('other', (new ReverbApp())->getConnectionName());
        $this->assertSame('tenant_apps', (new ReverbApp())->getTable());
        $this->assertFalse($this->database->connection('testing')->getSchemaBuilder()->hasTable('tenant_apps'));
    }

    private function provider(): DatabaseApplicationProvider
    {
        return new DatabaseApplicationProvider(null, 'reverb_apps');
    }
}
