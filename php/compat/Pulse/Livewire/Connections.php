<?php

declare(strict_types=1);

namespace Laravel\Reverb\Pulse\Livewire;

use Illuminate\Contracts\Support\Renderable;
use Illuminate\Support\Collection;
use Illuminate\Support\Facades\Config;
use Illuminate\Support\Facades\View;
use Illuminate\Support\HtmlString;
use Laravel\Pulse\Livewire\Card;
use Laravel\Reverb\Pulse\Recorders\ReverbConnections;
use Livewire\Attributes\Lazy;
use Livewire\Livewire;

/**
 * The "Reverb Connections" card of the Pulse dashboard, under the class and the Livewire name
 * (`<livewire:reverb.connections />`) laravel/reverb gives it: each app's average and peak
 * connections over the period, from what ReverbConnections records. Its view gets the
 * variables Reverb's gets, so a published copy of Reverb's view still renders.
 */
#[Lazy]
class Connections extends Card
{
    /** @var array<string, string> the colour of each line, by aggregate */
    public array $colors = [
        'avg' => '#10b981',
        'max' => '#9333ea',
    ];

    /** Renders the readings, read at most every 5 s like every Pulse card's. */
    public function render(): Renderable
    {
        [$connections, $time, $runAt] = $this->remember(function () {
            $peaks = $this->graph(['reverb_connections'], 'max');

            return $this->graph(['reverb_connections'], 'avg')->map(fn ($readings, $app) => new Collection([
                'reverb_connections:avg' => $readings['reverb_connections'],
                'reverb_connections:max' => $peaks[$app]['reverb_connections'] ?? $readings['reverb_connections'],
            ]));
        });

        if (Livewire::isLivewireRequest()) {
            $this->dispatch('reverb-connections-chart-update', connections: $connections);
        }

        return View::make('reverb::livewire.connections', [
            'connections' => $connections,
            'time' => $time,
            'runAt' => $runAt,
            'config' => Config::get('pulse.recorders.' . ReverbConnections::class),
        ]);
    }

    /** The legend's colour classes, which Pulse's stylesheet cannot know. */
    protected function css(): HtmlString
    {
        return new HtmlString('<style>' . collect($this->colors)
            ->map(fn (string $color) => '.bg-\\[\\' . $color . '\\]{background-color:' . $color . '}')
            ->join('') . '</style>');
    }
}
