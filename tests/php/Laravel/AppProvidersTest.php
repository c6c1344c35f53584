<?php

declare(strict_types=1);

namespace ReverbRs\Tests\Laravel;

use Illuminate\Config\Repository;
use Illuminate\Foundation\Application;
use Illuminate\Support\ServiceProvider;
use InvalidArgumentException;
use PHPUnit\Framework\TestCase;
use ReverbRs\Laravel\ApplicationManager;
use ReverbRs\Laravel\Contracts\ApplicationProvider;
use ReverbRs\Laravel\Providers\ConfigApplicationProvider;
use ReverbRs\Laravel\Providers\DatabaseApplicationProvider;
use ReverbRs\Laravel\ReverbServiceProvider;
use ReverbRs\Tests\Support\FakeProvider;
use stdClass;

/**
 * The app providers: the manager and the drivers `apps.provider` chooses (config, database, one
 * registered with extend()), their binding in the service provider, the publishable migration
 * and the config provider's lookups.
 */
final class AppProvidersTest extends TestCase
{
    private Application $app;

    protected function setUp(): void
    {
        $this->app = new Application(sys_get_temp_dir());
        $this->app->instance('config', new Repository());
        (new ReverbServiceProvider($this->app))->register();
    }

    protected function tearDown(): void
    {
        Application::setInstance(null);
    }

    public function testTheConfigProviderIsTheDefaultAndServesReverbAppsApps(): void
    {
        $this->app['config']->set('reverb.apps.apps', [['app_id' => 'a', 'key' => 'k', 'secret' => 's']]);

        $provider = $this->app->make(ApplicationProvider::class);

        $this->assertInstanceOf(ConfigApplicationProvider::class, $provider);
        $this->assertSame([['app_id' => 'a', 'key' => 'k', 'secret' => 's']], [...$provider->all()]);
        $this->assertSame('config/reverb.php', $this->app->make(ApplicationManager::class)->source());
    }

    public function testTheManagerIsOneInstanceSoThatExtensionsStay(): void
    {
        $this->assertSame($this->app->make(ApplicationManager::class), $this->app->make(ApplicationManager::class));
    }

    public function testTheDatabaseProviderReadsItsTableAndConnectionFromTheConfig(): void
    {
        $this->app['config']->set('reverb.apps', [
            'provider' => 'database',
            'database' => ['connection' => 'tenants', 'table' => 'tenant_apps'],
        ]);

        $provider = $this->app->make(ApplicationProvider::class);

        $this->assertInstanceOf(DatabaseApplicationProvider::class, $provider);
        $this->assertSame('tenant_apps row', $this->app->make(ApplicationManager::class)->source());
    }

    public function testAProviderRegisteredWithExtendIsChosenByName(): void
    {
        $custom = new FakeProvider([['app_id' => 'a', 'key' => 'k', 'secret' => 's']]);
        $this->app->make(ApplicationManager::class)->extend('tenants', fn ($app) => $custom);
        $this->app['config']->set('reverb.apps.provider', 'tenants');

        $this->assertSame($custom, $this->app->make(ApplicationProvider::class));
        $this->assertSame("provider 'tenants'", $this->app->make(ApplicationManager::class)->source());
    }

    public function testSomethingElseThanAProviderIsRefusedByName(): void
    {
        $this->app->make(ApplicationManager::class)->extend('broken', fn () => new stdClass());

        $this->expectException(InvalidArgumentException::class);
        $this->expectExceptionMessage('The app provider [broken] is a stdClass, which does not implement ReverbRs\Laravel\Contracts\ApplicationProvider.');

        $this->app->make(ApplicationManager::class)->driver('broken');
    }

    public function testAnUnknownProviderIsRefusedByName(): void
    {
        $this->app['config']->set('reverb.apps.provider', 'ldap');

        $this->expectException(InvalidArgumentException::class);
        $this->expectExceptionMessage('Driver [ldap] not supported.');

        $this->app->make(ApplicationProvider::class);
    }

    public function testTheMigrationIsPublishedUnderItsTag(): void
    {
        (new ReverbServiceProvider($this->app))->boot();

        $paths = ServiceProvider::pathsToPublish(ReverbServiceProvider::class, 'reverb-rs-migrations');

        $this->assertSame([$this->app->databasePath('migrations')], array_values($paths));
        $this->assertFileExists(array_key_first($paths) . '/2026_01_01_000000_create_reverb_apps_table.php');
    }

    public function testTheConfigProviderFindsAppsByIdAndKeyComparedAsStrings(): void
    {
        $provider = new ConfigApplicationProvider([
            ['app_id' => 123456, 'key' => 'key-1', 'secret' => 's'],
            ['app_id' => 'b', 'key' => 'key-2', 'secret' => 's'],
        ]);

        $this->assertSame('key-1', $provider->findById('123456')['key']);
        $this->assertSame('b', $provider->findByKey('key-2')['app_id']);
        $this->assertNull($provider->findById('c'));
        $this->assertNull($provider->findByKey('KEY-2'));
    }
}
