<?php

declare(strict_types=1);

namespace ReverbRs\Laravel;

use Illuminate\Broadcasting\BroadcastManager;
use Illuminate\Foundation\Console\BroadcastingInstallCommand;
use Illuminate\Support\ServiceProvider;
use ReverbRs\Laravel\Broadcasting\ReverbBroadcaster;
use ReverbRs\Laravel\Console\InstallBroadcastingCommand;
use ReverbRs\Laravel\Console\InstallCommand;
use ReverbRs\Laravel\Console\RestartCommand;
use ReverbRs\Laravel\Console\StartCommand;

/**
 * Wires reverb-rs into a Laravel application the way laravel/reverb does: the same config
 * file and publish tags, the same artisan commands, the `reverb` broadcast driver, and the
 * same hooks into the framework's own commands (`install:broadcasting`, `reload`).
 */
final class ReverbServiceProvider extends ServiceProvider
{
    /** Merges the default config and puts reverb-rs's step into `install:broadcasting`. */
    public function register(): void
    {
        $this->mergeConfigFrom(__DIR__ . '/../config/reverb.php', 'reverb');

        if (class_exists(BroadcastingInstallCommand::class)) {
            $this->app->extend(
                BroadcastingInstallCommand::class,
                fn ($command, $app) => $app->make(InstallBroadcastingCommand::class)
            );
        }
    }

    /** Registers the commands, the publish tags, the reload hook and the broadcast driver. */
    public function boot(): void
    {
        if ($this->app->runningInConsole()) {
            $this->publishes([
                __DIR__ . '/../config/reverb.php' => $this->app->configPath('reverb.php'),
            ], ['reverb', 'reverb-config']);

            $this->commands([StartCommand::class, RestartCommand::class, InstallCommand::class]);

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
    }
}
