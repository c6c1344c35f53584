<?php

declare(strict_types=1);

namespace ReverbRs\Laravel;

use Illuminate\Broadcasting\BroadcastManager;
use Illuminate\Support\ServiceProvider;
use ReverbRs\Laravel\Broadcasting\ReverbBroadcaster;
use ReverbRs\Laravel\Console\InstallCommand;
use ReverbRs\Laravel\Console\RestartCommand;
use ReverbRs\Laravel\Console\StartCommand;

/**
 * Wires reverb-rs into a Laravel application the way laravel/reverb does: the same config
 * file and publish tags, the same artisan commands, and the `reverb` broadcast driver.
 */
final class ReverbServiceProvider extends ServiceProvider
{
    public function register(): void
    {
        $this->mergeConfigFrom(__DIR__ . '/../config/reverb.php', 'reverb');
    }

    public function boot(): void
    {
        if ($this->app->runningInConsole()) {
            $this->publishes([
                __DIR__ . '/../config/reverb.php' => $this->app->configPath('reverb.php'),
            ], ['reverb', 'reverb-config']);

            $this->commands([StartCommand::class, RestartCommand::class, InstallCommand::class]);
        }

        $this->app->afterResolving(BroadcastManager::class, function (BroadcastManager $manager): void {
            $manager->extend('reverb', fn ($app, array $config) => new ReverbBroadcaster($app, $config));
        });
        if ($this->app->resolved(BroadcastManager::class)) {
            $this->app->make(BroadcastManager::class)
                ->extend('reverb', fn ($app, array $config) => new ReverbBroadcaster($app, $config));
        }
    }
}
