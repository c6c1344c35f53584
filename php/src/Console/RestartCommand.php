<?php

declare(strict_types=1);

namespace ReverbRs\Laravel\Console;

use Illuminate\Console\Command;
use Illuminate\Contracts\Cache\Repository as Cache;
use Throwable;

/**
 * `php artisan reverb:restart`: asks running servers to stop, as laravel/reverb does, by
 * writing the current time under `laravel:reverb:restart` on the default cache store. The
 * server checks the key every 5 seconds; a process manager then starts it again.
 */
final class RestartCommand extends Command
{
    /** @var string */
    protected $signature = 'reverb:restart';

    /** @var string */
    protected $description = 'Restart the Reverb server';

    public function handle(Cache $cache): int
    {
        try {
            $cache->forever(StartCommand::RESTART_KEY, time());
        } catch (Throwable $e) {
            $this->error("Could not write the restart signal to the default cache store: {$e->getMessage()}");
            $this->line('reverb:start and reverb:restart must share a working cache store (CACHE_DRIVER / CACHE_STORE).');
            return self::FAILURE;
        }
        $this->info('Broadcasting Reverb restart signal.');
        $this->line('Running servers stop within 5 seconds; your process manager starts them again.');

        return self::SUCCESS;
    }
}
