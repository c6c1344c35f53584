<?php

/**
 * What every bench server does once its server has started: say where it listens, in the
 * line the load generators wait for, then serve until SIGINT or SIGTERM.
 */

declare(strict_types=1);

/**
 * Prints `listening on ws://127.0.0.1:PORT pid PID`, hands every engine event to `$onEvent`
 * (when given) until SIGINT or SIGTERM, then stops the server with a 1 s grace.
 *
 * @param (callable(array<string, mixed>): void)|null $onEvent
 */
function serveUntilSignalled(ReverbRs\Server $server, ?callable $onEvent = null): void
{
    fwrite(STDOUT, "listening on ws://127.0.0.1:{$server->port()} pid " . getmypid() . "\n");
    fflush(STDOUT);

    $running = true;
    pcntl_async_signals(true);
    foreach ([SIGINT, SIGTERM] as $signal) {
        pcntl_signal($signal, function () use (&$running): void {
            $running = false;
        });
    }
    while ($running) {
        if ($server->wait(1000) !== 1) {
            continue;
        }
        foreach ($server->drain() as $event) {
            if ($onEvent !== null) {
                $onEvent($event);
            }
        }
    }
    $server->stop(1.0);
}
