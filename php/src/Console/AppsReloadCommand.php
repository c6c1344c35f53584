<?php

declare(strict_types=1);

namespace ReverbRs\Laravel\Console;

use Illuminate\Console\Command;
use Illuminate\Contracts\Cache\Repository as Cache;
use Throwable;

/**
 * `php artisan reverb:apps:reload`: asks every running server to read its apps from the app
 * provider again now rather than at its next `apps.reload_interval`, after a change to the
 * `reverb_apps` table, say. It writes the time under `reverb-rs:apps:reload` on the default
 * cache store, which each server checks every few seconds, so that every node sharing the
 * store reloads, from whichever process the command runs in.
 */
final class AppsReloadCommand extends Command
{
    /** @var string */
    protected $signature = 'reverb:apps:reload';

    /** @var string */
    protected $description = 'Make the running Reverb servers read their apps again';

    /** Writes the reload signal; fails when the cache store cannot be written. */
    public function handle(Cache $cache): int
    {
        try {
            $cache->forever(StartCommand::APPS_RELOAD_KEY, microtime(true));
        } catch (Throwable $e) {
            $this->error("Could not write the reload signal to the default cache store: {$e->getMessage()}");
            $this->line('reverb:start and reverb:apps:reload must share a working cache store (CACHE_DRIVER / CACHE_STORE).');
            return self::FAILURE;
        }
        $this->info('Asked the running Reverb servers to reload their apps.');
        $this->line(sprintf('They read them again within %d seconds.', StartCommand::SIGNAL_CHECK_SECONDS));

        return self::SUCCESS;
    }
}
