<?php

namespace App\Console;

use Illuminate\Console\Scheduling\Schedule;
use Illuminate\Foundation\Console\Kernel as ConsoleKernel;

class Kernel extends ConsoleKernel
{
    /**
     * Commands of the app, listed by hand (there is no Composer class map to scan).
     *
     * @var array<int, class-string>
     */
    protected $commands = [
        Commands\PostMessage::class,
    ];

    protected function schedule(Schedule $schedule)
    {
        //
    }

    protected function commands()
    {
        //
    }
}
