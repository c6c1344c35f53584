<?php

declare(strict_types=1);

namespace ReverbRs\Laravel\Pulse;

use Illuminate\Support\Collection;

/**
 * What the Reverb Messages card plots, from `Pulse::graph()` results (readings by app id, then
 * type, then bucket). reverb-rs records each interval's messages as one `sum` entry, which
 * Pulse adds up per bucket; laravel/reverb recorded one `count` entry per message. The card
 * adds the two, so the history recorded before a swap from laravel/reverb stays on it.
 */
final class MessageReadings
{
    /**
     * Two graphs added bucket by bucket; a bucket empty in both stays empty (null).
     *
     * @param Collection<string, Collection<string, Collection<string, int|float|string|null>>> $first
     * @param Collection<string, Collection<string, Collection<string, int|float|string|null>>> $second
     * @return Collection<string, Collection<string, Collection<string, int|float|null>>>
     */
    public static function add(Collection $first, Collection $second): Collection
    {
        return $first->keys()->merge($second->keys())->unique()->sort()->values()
            ->mapWithKeys(function ($app) use ($first, $second) {
                $ofFirst = $first->get($app, new Collection());
                $ofSecond = $second->get($app, new Collection());
                $types = $ofFirst->keys()->merge($ofSecond->keys())->unique()->values();

                return [$app => $types->mapWithKeys(function ($type) use ($ofFirst, $ofSecond) {
                    $a = $ofFirst->get($type, new Collection());
                    $b = $ofSecond->get($type, new Collection());
                    $buckets = $a->keys()->merge($b->keys())->unique()->sort()->values();

                    return [$type => $buckets->mapWithKeys(function ($bucket) use ($a, $b) {
                        $x = $a->get($bucket);
                        $y = $b->get($bucket);

                        return [$bucket => $x === null && $y === null ? null : 0 + ($x ?? 0) + ($y ?? 0)];
                    })];
                })];
            });
    }

    /**
     * A graph's messages per bucket as messages per `$unitSeconds` (rounded to hundredths),
     * for buckets of `$bucketSeconds`; empty buckets stay empty.
     *
     * @param Collection<string, Collection<string, Collection<string, int|float|null>>> $graph
     * @return Collection<string, Collection<string, Collection<string, float|null>>>
     */
    public static function rates(Collection $graph, float $bucketSeconds, float $unitSeconds): Collection
    {
        return $graph->map(fn (Collection $types) => $types->map(fn (Collection $buckets) => $buckets->map(
            fn ($value) => $value === null ? null : round($value * $unitSeconds / $bucketSeconds, 2)
        )));
    }
}
