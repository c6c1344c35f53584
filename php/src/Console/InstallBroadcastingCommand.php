<?php

declare(strict_types=1);

namespace ReverbRs\Laravel\Console;

use Illuminate\Foundation\Console\BroadcastingInstallCommand;

/**
 * Laravel 11+'s `php artisan install:broadcasting`, unchanged but for the step that would
 * `composer require laravel/reverb`: reverb-rs is that package here, so the step runs
 * `reverb:install` instead (the REVERB_* variables, config/reverb.php, the reverb driver),
 * under the same conditions and at the same point as Laravel does.
 */
class InstallBroadcastingCommand extends BroadcastingInstallCommand
{
    /**
     * Sets up Reverb unless `--without-reverb` was given or (Laravel 12+) another driver was
     * chosen; nothing is asked, since choosing reverb-rs was the question.
     *
     * @return void
     */
    protected function installReverb()
    {
        if ($this->option('without-reverb') || ($this->driver ?? 'reverb') !== 'reverb') {
            return;
        }

        $this->call('reverb:install');
    }
}
