<?php

declare(strict_types=1);

namespace Laravel\Reverb\Pulse\Livewire;

use Illuminate\Contracts\Support\Renderable;
use Illuminate\Support\Facades\Config;
use Illuminate\Support\Facades\View;
use Illuminate\Support\HtmlString;
use Laravel\Pulse\Livewire\Card;
use Laravel\Reverb\Pulse\Recorders\ReverbMessages;
use Livewire\Attributes\Lazy;
use Livewire\Livewire;
use ReverbRs\Laravel\Pulse\MessageReadings;

/**
 * The "Reverb Messages" card of the Pulse dashboard, under the class and the Livewire name
 * (`<livewire:reverb.messages />`) laravel/reverb gives it: each app's messages sent and
 * received per bucket, and per second, minute, hour or day. It reads the `sum` aggregate
 * ReverbMessages records and adds the `count` aggregate Reverb recorded (MessageReadings).
 * Its view gets the variables Reverb's gets, so a published copy of Reverb's view still renders.
 */
#[Lazy]
class Messages extends Card
{
    /** @var array<string, string> the colour of each line */
    public array $colors = [
        'received' => '#10b981',
        'received:per_rate' => '#78d7b3',
        'sent' => '#9333ea',
        'sent:per_rate' => '#bc81f1',
    ];

    /** Renders the readings, read at most every 5 s like every Pulse card's. */
    public function render(): Renderable
    {
        [[$messages, $messagesRate], $time, $runAt] = $this->remember(function () {
            $types = ['reverb_message:sent', 'reverb_message:received'];
            $messages = MessageReadings::add($this->graph($types, 'count'), $this->graph($types, 'sum'));
            $bucketSeconds = $this->periodAsInterval()->totalSeconds / 60;

            return [$messages, MessageReadings::rates($messages, $bucketSeconds, $this->rateSeconds())];
        });

        if (Livewire::isLivewireRequest()) {
            $this->dispatch('reverb-messages-chart-update', messages: $messages, messagesRate: $messagesRate);
        }

        return View::make('reverb::livewire.messages', [
            'messages' => $messages,
            'messagesRate' => $messagesRate,
            'time' => $time,
            'runAt' => $runAt,
            'config' => Config::get('pulse.recorders.' . ReverbMessages::class),
        ]);
    }

    /** The unit of the rate lines, growing with the period as Reverb's card has it. */
    protected function rateUnit(): string
    {
        return match ($this->period) {
            '6_hours' => 'minute',
            '24_hours' => 'hour',
            '7_days' => 'day',
            default => 'second',
        };
    }

    /** The rate unit in seconds. */
    private function rateSeconds(): int
    {
        return match ($this->rateUnit()) {
            'minute' => 60,
            'hour' => 3600,
            'day' => 86400,
            default => 1,
        };
    }

    /** The legend's colour classes, which Pulse's stylesheet cannot know. */
    protected function css(): HtmlString
    {
        return new HtmlString('<style>' . collect($this->colors)
            ->map(fn (string $color) => '.bg-\\[\\' . $color . '\\]{background-color:' . $color . '}')
            ->join('') . '</style>');
    }
}
