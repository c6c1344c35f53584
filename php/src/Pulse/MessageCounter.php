<?php

declare(strict_types=1);

namespace ReverbRs\Laravel\Pulse;

/**
 * Turns the engine's message counters, which count up from the server's start, into the
 * messages of each app since the previous reading: what the Reverb messages recorder records.
 */
final class MessageCounter
{
    /** @var array<string, array{received: int, sent: int}> the totals last seen, by app id */
    private array $totals = [];

    /**
     * The messages each app received and sent since the previous call (since the server
     * started, on the first call); apps with neither are left out. A total lower than the
     * one seen before means a new server, whose total is then all new.
     *
     * @param array<string, array<string, mixed>> $stats `ReverbRs\Server::stats()`
     * @return array<string, array{received: int, sent: int}>
     */
    public function since(array $stats): array
    {
        $counts = [];
        foreach ($stats as $appId => $app) {
            $totals = [
                'received' => (int) ($app['messages_in'] ?? 0),
                'sent' => (int) ($app['messages_out'] ?? 0),
            ];
            $previous = $this->totals[$appId] ?? ['received' => 0, 'sent' => 0];
            $this->totals[$appId] = $totals;
            $new = [];
            foreach ($totals as $direction => $total) {
                $new[$direction] = $total >= $previous[$direction] ? $total - $previous[$direction] : $total;
            }
            if ($new['received'] > 0 || $new['sent'] > 0) {
                $counts[$appId] = $new;
            }
        }

        return $counts;
    }
}
