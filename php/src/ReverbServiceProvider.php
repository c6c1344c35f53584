<?php

declare(strict_types=1);

namespace ReverbRs\Laravel;

use Illuminate\Broadcasting\BroadcastManager;
use Illuminate\Foundation\Console\BroadcastingInstallCommand;
use Illuminate\Support\ServiceProvider;
use Laravel\Pulse\Pulse;
use Laravel\Reverb\Pulse\Livewire\Connections;
use Laravel\Reverb\Pulse\Livewire\Messages;
use ReverbRs\Laravel\Broadcasting\ReverbBroadcaster;
use ReverbRs\Laravel\Console\AppsReloadCommand;
use ReverbRs\Laravel\Console\InstallBroadcastingCommand;
use ReverbRs\Laravel\Console\InstallCommand;
use ReverbRs\Laravel\Console\RestartCommand;
use ReverbRs\Laravel\Console\StartCommand;
use ReverbRs\Laravel\Contracts\ApplicationProvider;

/**
 * Wires reverb-rs into a Laravel application the way laravel/reverb does: the same config
 * file and publish tags, the same artisan commands, the `reverb` broadcast driver, the app
 * providers, the same hooks into the framework's own commands (`install:broadcasting`,
 * `reload`), and, when Laravel Pulse is installed, the same Pulse cards.
 */
final class ReverbServiceProvider extends ServiceProvider
{
    /**
     * Merges the default config, binds the app providers (the ApplicationManager, and the
     * ApplicationProvider `apps.provider` chooses) and puts reverb-rs's step into
     * `install:broadcasting`.
     */
    public function register(): void
    {
        $this->mergeConfigFrom(__DIR__ . '/../config/reverb.php', 'reverb');

        $this->app->singleton(ApplicationManager::class);
        $this->app->bind(
            ApplicationProvider::class,
            fn ($app) => $app->make(ApplicationManager::class)->driver()
        );

        if (class_exists(BroadcastingInstallCommand::class)) {
            $this->app->extend(
                BroadcastingInstallCommand::class,
                fn ($command, $app) => $app->make(InstallBroadcastingCommand::class)
            );
        }
    }

    /** Registers the commands, the publish tags, the reload hook, the broadcast driver and the Pulse cards. */
    public function boot(): void
    {
        if ($this->app->runningInConsole()) {
            $this->publishes([
                __DIR__ . '/../config/reverb.php' => $this->app->configPath('reverb.php'),
            ], ['reverb', 'reverb-config']);
            $this->publishMigrations();

            $this->commands([
                StartCommand::class,
                RestartCommand::class,
                InstallCommand::class,
                AppsReloadCommand::class,
            ]);

            if (method_exists($this, 'reloads')) {
                $this->reloads('reverb:restart', 'reverb');
            }
        }

        $this->app->afterResolving(BroadcastManager::class, function (BroadcastManager $manager): void {
            $manager->extend('reverb', fn ($app, array $config) => new ReverbBroadcaster($app, $config));
        });
        if ($this->app->resolved(BroadcastManager::class)) {
            $this->app->make(BroadcastManager::class)
                ->extend('reverb', fn ($app, array $config) => new ReverbBroadcaster($app, $config));
        }

        if ($this->app->bound(Pulse::class)) {
            $this->registerPulseCards();
        }
    }

    /**
     * `vendor:publish --tag=reverb-rs-migrations` copies the `reverb_apps` migration of the
     * `database` app provider into database/migrations; Laravel 11+ dates it at the moment
     * of publishing when `database.migrations.update_date_on_publish` is on.
     */
    private function publishMigrations(): void
    {
        $paths = [__DIR__ . '/../database/migrations' => $this->app->databasePath('migrations')];
        if (method_exists($this, 'publishesMigrations')) {
            $this->publishesMigrations($paths, 'reverb-rs-migrations');
            return;
        }
        $this->publishes($paths, 'reverb-rs-migrations');
    }

    /**
     * The Livewire components `reverb.connections` and `reverb.messages` that a Pulse dashboard
     * written for laravel/reverb names, with their views in the `reverb` namespace (so copies
     * published to resources/views/vendor/reverb take their place).
     */
    private function registerPulseCards(): void
    {
        $this->loadViewsFrom(__DIR__ . '/../resources/views', 'reverb');
        $this->callAfterResolving('livewire', function ($livewire): void {
            $livewire->component('reverb.connections', Connections::class);
            $livewire->component('reverb.messages', Messages::class);
        });
    }
}
