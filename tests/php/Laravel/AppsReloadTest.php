<?php

declare(strict_types=1);

namespace ReverbRs\Tests\Laravel;

use Illuminate\Cache\ArrayStore;
use Illuminate\Cache\Repository as CacheRepository;
use Illuminate\Console\OutputStyle;
use Illuminate\Contracts\Cache\Repository as Cache;
use Illuminate\Contracts\Cache\Store;
use PHPUnit\Framework\TestCase;
use ReflectionMethod;
use ReverbRs\Laravel\ApplicationManager;
use ReverbRs\Laravel\Console\AppsReloadCommand;
use ReverbRs\Laravel\Console\StartCommand;
use ReverbRs\Tests\Support\AppDatabase;
use RuntimeException;
use Symfony\Component\Console\Input\ArrayInput;
use Symfony\Component\Console\Output\BufferedOutput;

/**
 * `reverb:apps:reload` and what `reverb:start` builds its server from when the apps come from
 * the `database` provider: the rows in `apps.apps` (faulty ones reported on the console), none
 * in lookup mode, and the `apps` keys an older config/reverb.php lacks taken from the
 * environment. The server's loop needs the extension; these call the methods it uses.
 */
final class AppsReloadTest extends TestCase
{
    private const VARIABLES = [
        'REVERB_APPS_RELOAD_INTERVAL',
        'REVERB_APPS_LOOKUP',
        'REVERB_APPS_LOOKUP_CACHE_TTL',
        'REVERB_WEBHOOK_URL',
    ];

    private AppDatabase $database;

    private BufferedOutput $output;

    protected function setUp(): void
    {
        $this->setEnvironment([]);
        $this->output = new BufferedOutput();
        $this->database = new AppDatabase([
            'default' => 'reverb',
            'servers' => ['reverb' => ['host' => '127.0.0.1', 'port' => 0]],
            'apps' => ['provider' => 'database', 'database' => ['connection' => null, 'table' => 'reverb_apps']],
        ]);
        $this->database->app->instance(ApplicationManager::class, new ApplicationManager($this->database->app));
    }

    protected function tearDown(): void
    {
        $this->database->tearDown();
        $this->setEnvironment([]);
    }

    public function testTheCommandWritesANewValueUnderTheReloadKeyEachTime(): void
    {
        $cache = new CacheRepository(new ArrayStore());
        $this->database->app->instance(Cache::class, $cache);

        $this->assertSame(0, $this->runReload());
        $first = $cache->get(StartCommand::APPS_RELOAD_KEY);
        $this->assertSame(0, $this->runReload());

        $this->assertIsFloat($first);
        $this->assertNotSame($first, $cache->get(StartCommand::APPS_RELOAD_KEY));
        $this->assertStringContainsString('Asked the running Reverb servers to reload their apps.', $this->output->fetch());
    }

    public function testTheCommandFailsWhenTheCacheStoreCannotBeWritten(): void
    {
        $store = $this->createMock(Store::class);
        $store->method('forever')->willThrowException(new RuntimeException('Connection refused'));
        $this->database->app->instance(Cache::class, new CacheRepository($store));

        $this->assertSame(1, $this->runReload());
        $this->assertStringContainsString(
            'Could not write the reload signal to the default cache store: Connection refused',
            $this->output->fetch()
        );
    }

    public function testTheServerIsBuiltWithTheRowsAndTheFaultyOnesAreReported(): void
    {
        $this->database->insert(['id' => 'shop-1', 'key' => 'key-1']);
        $this->database->insert(['id' => 'shop-2', 'key' => 'key-2', 'enabled' => false]);
        $this->database->insert(['id' => 'shop-3', 'key' => 'key-3', 'allowed_origins' => '"*"']);
        $this->database->insert(['id' => 'shop-4', 'key' => 'key-4']);

        $config = $this->serverConfig();

        $this->assertSame(['shop-1', 'shop-4'], array_column($config['apps']['apps'], 'app_id'));
        $this->assertSame(
            "App 'shop-3' (reverb_apps row): allowed_origins must be a JSON list, got '\"*\"'\n",
            $this->output->fetch()
        );
    }

    public function testInLookupModeNoRowIsReadAtStart(): void
    {
        $this->database->app['config']->set('reverb.apps.lookup', ['enabled' => true, 'cache_ttl' => 60]);
        $this->database->insert(['id' => 'shop-1']);
        $this->database->connection()->enableQueryLog();

        $config = $this->serverConfig();

        $this->assertSame([], $config['apps']['apps']);
        $this->assertSame(['enabled' => true, 'cache_ttl' => 60], $config['apps']['lookup']);
        $this->assertSame([], $this->database->connection()->getQueryLog());
    }

    public function testAnOlderConfigGetsTheReloadAndLookupKeysFromTheEnvironment(): void
    {
        $this->setEnvironment([
            'REVERB_APPS_RELOAD_INTERVAL' => '15',
            'REVERB_APPS_LOOKUP' => 'true',
            'REVERB_APPS_LOOKUP_CACHE_TTL' => '120',
        ]);

        $config = $this->serverConfig();

        $this->assertSame('15', $config['apps']['reload_interval']);
        $this->assertSame(
            ['enabled' => true, 'cache_ttl' => '120', 'negative_ttl' => 30, 'timeout' => 2],
            $config['apps']['lookup']
        );
    }

    public function testThePublishedConfigHasTheAppsKeysWithTheirDefaults(): void
    {
        $config = require dirname(__DIR__, 3) . '/php/config/reverb.php';

        $this->assertSame('config', $config['apps']['provider']);
        $this->assertSame(60, $config['apps']['reload_interval']);
        $this->assertSame(['connection' => null, 'table' => 'reverb_apps'], $config['apps']['database']);
        $this->assertSame(
            ['enabled' => false, 'cache_ttl' => 300, 'negative_ttl' => 30, 'timeout' => 2],
            $config['apps']['lookup']
        );
    }

    public function testTheWebhookUrlOfTheEnvironmentIsNotPutOnADatabaseApp(): void
    {
        $this->setEnvironment(['REVERB_WEBHOOK_URL' => 'https://app.test/hooks']);
        $this->database->insert(['id' => 'shop-1']);

        $config = $this->serverConfig();

        $this->assertArrayNotHasKey('webhooks', $config['apps']['apps'][0]);
    }

    /** Runs `reverb:apps:reload`; its exit code. */
    private function runReload(): int
    {
        $command = new AppsReloadCommand();
        $command->setLaravel($this->database->app);

        return $command->run(new ArrayInput([]), $this->output);
    }

    /** The config `reverb:start` would build the server from. */
    private function serverConfig(): array
    {
        $command = new StartCommand();
        $command->setLaravel($this->database->app);
        $input = new ArrayInput([], $command->getDefinition());
        $command->setInput($input);
        $command->setOutput(new OutputStyle($input, $this->output));

        return (new ReflectionMethod($command, 'serverConfig'))->invoke($command);
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
}
