<?php

declare(strict_types=1);

namespace ReverbRs\Laravel;

use Illuminate\Support\Manager;
use InvalidArgumentException;
use ReverbRs\Laravel\Contracts\ApplicationProvider;
use ReverbRs\Laravel\Providers\ConfigApplicationProvider;
use ReverbRs\Laravel\Providers\DatabaseApplicationProvider;
use ReverbRs\Laravel\Providers\ReverbProviderAdapter;

/**
 * The app providers, as laravel/reverb's ApplicationManager has them: `apps.provider` chooses
 * one (`config` by default, `database`, or a name given to extend() in a service provider's
 * boot(), e.g. `$manager->extend('tenants', fn ($app) => new TenantApps())`).
 */
final class ApplicationManager extends Manager
{
    /** The `config` provider, over `reverb.apps.apps`. */
    public function createConfigDriver(): ConfigApplicationProvider
    {
        return new ConfigApplicationProvider((array) $this->config->get('reverb.apps.apps', []));
    }

    /** The `database` provider, over `apps.database.table` on `apps.database.connection`. */
    public function createDatabaseDriver(): DatabaseApplicationProvider
    {
        return new DatabaseApplicationProvider(
            $this->config->get('reverb.apps.database.connection'),
            (string) $this->config->get('reverb.apps.database.table', 'reverb_apps')
        );
    }

    /** `apps.provider`, `config` when it is not set. */
    public function getDefaultDriver(): string
    {
        return (string) ($this->config->get('reverb.apps.provider') ?? 'config');
    }

    /**
     * The provider named `$driver` (the default one when null), checked to be an
     * ApplicationProvider, so that a misregistered one is reported by name before it is used.
     *
     * @throws InvalidArgumentException for an unknown name or something else than a provider
     */
    public function driver($driver = null): ApplicationProvider
    {
        $provider = parent::driver($driver);
        if (!$provider instanceof ApplicationProvider) {
            throw new InvalidArgumentException(sprintf(
                'The app provider [%s] is a %s, which does not implement %s%s.',
                $driver ?? $this->getDefaultDriver(),
                get_debug_type($provider),
                ApplicationProvider::class,
                method_exists($provider, 'findByKey') ? ' (' . ReverbProviderAdapter::HINT . ')' : ''
            ));
        }

        return $provider;
    }

    /**
     * Where the apps of the provider named `$driver` come from, for the messages that name a
     * faulty one: "config/reverb.php", "reverb_apps row", or "provider 'tenants'".
     */
    public function source(?string $driver = null): string
    {
        $provider = $this->driver($driver);

        return match (true) {
            $provider instanceof ConfigApplicationProvider => 'config/reverb.php',
            $provider instanceof DatabaseApplicationProvider => $provider->source(),
            default => "provider '" . ($driver ?? $this->getDefaultDriver()) . "'",
        };
    }
}
