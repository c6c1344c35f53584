<x-pulse::card :cols="$cols" :rows="$rows" :class="$class">
    <x-pulse::card-header
        name="Reverb Messages"
        title="Time: {{ number_format($time) }}ms; Run at: {{ $runAt }};"
        details="past {{ $this->periodForHumans() }}"
    >
        <x-slot:icon>
            <x-reverb::icons.reverb />
        </x-slot:icon>
        <x-slot:actions>
            <div class="flex flex-wrap gap-4">
                @foreach (['sent' => 'Sent', 'sent:per_rate' => 'Sent per ' . $this->rateUnit(), 'received' => 'Received', 'received:per_rate' => 'Received per ' . $this->rateUnit()] as $line => $label)
                    <div class="flex items-center gap-2 text-xs text-gray-600 dark:text-gray-400 font-medium">
                        <div class="h-0.5 w-3 rounded-full bg-[{{ $this->colors[$line] }}]"></div>
                        {{ $label }}
                    </div>
                @endforeach
            </div>
        </x-slot:actions>
    </x-pulse::card-header>

    <x-pulse::scroll :expand="$expand" wire:poll.5s="">
        @if ($messages->isEmpty())
            <x-pulse::no-results />
        @else
            <div class="grid gap-3 mx-px mb-px">
                @foreach ($messages as $app => $readings)
                    <div wire:key="reverb-messages:{{ $app }}">
                        <h3 class="font-bold text-gray-700 dark:text-gray-300">{{ $app }}</h3>
                        <div class="mt-3 relative">
                            <div
                                class="absolute -left-px -top-2 max-w-fit h-4 flex items-center px-1 text-xs leading-none text-white font-bold bg-purple-500 rounded"
                                title="Most messages sent or received in {{ $this->periodAsInterval()->totalMinutes / 60 }} min"
                            >
                                {{ number_format($readings->flatten()->max() ?? 0) }}
                            </div>
                            <div
                                wire:ignore
                                class="h-14"
                                x-data="reverbMessagesChart({ app: @js((string) $app), readings: @js($readings), rates: @js($messagesRate[$app]) })"
                            >
                                <canvas x-ref="canvas" class="ring-1 ring-gray-900/5 dark:ring-gray-100/10 bg-gray-50 dark:bg-gray-800 rounded-md shadow-sm"></canvas>
                            </div>
                        </div>
                    </div>
                @endforeach
            </div>
        @endif
    </x-pulse::scroll>
</x-pulse::card>

@script
<script>
Alpine.data('reverbMessagesChart', (config) => ({
    init() {
        const lines = [
            { key: 'reverb_message:sent', label: 'Sent', color: '{{ $this->colors['sent'] }}', rate: false },
            { key: 'reverb_message:received', label: 'Received', color: '{{ $this->colors['received'] }}', rate: false },
            { key: 'reverb_message:sent', label: 'Sent per {{ $this->rateUnit() }}', color: '{{ $this->colors['sent:per_rate'] }}', rate: true },
            { key: 'reverb_message:received', label: 'Received per {{ $this->rateUnit() }}', color: '{{ $this->colors['received:per_rate'] }}', rate: true },
        ]
        const data = (readings, rates, { key, rate }) => Object.values((rate ? rates : readings)[key])
        const highest = (readings) => Math.max(0, ...Object.values(readings).map((buckets) => Math.max(...Object.values(buckets))))
        let chart = new Chart(this.$refs.canvas, {
            type: 'line',
            data: {
                labels: Object.keys(config.readings[lines[0].key]),
                datasets: lines.map((line, order) => ({
                    label: line.label,
                    borderColor: line.color,
                    data: data(config.readings, config.rates, line),
                    order,
                })),
            },
            options: {
                maintainAspectRatio: false,
                layout: { autoPadding: false, padding: { top: 1 } },
                datasets: {
                    line: {
                        borderWidth: 2,
                        borderCapStyle: 'round',
                        pointHitRadius: 10,
                        pointStyle: false,
                        tension: 0.2,
                        spanGaps: false,
                        segment: {
                            borderColor: (ctx) => ctx.p0.raw === 0 && ctx.p1.raw === 0 ? 'transparent' : undefined,
                        },
                    },
                },
                scales: {
                    x: { display: false },
                    y: { display: false, min: 0, max: Math.max(highest(config.readings), highest(config.rates)) },
                },
                plugins: {
                    legend: { display: false },
                    tooltip: {
                        mode: 'index',
                        position: 'nearest',
                        intersect: false,
                        callbacks: {
                            beforeBody: (context) => context.map((item) => `${item.dataset.label}: ${item.formattedValue}`).join(', '),
                            label: () => null,
                        },
                    },
                },
            },
        })

        Livewire.on('reverb-messages-chart-update', ({ messages, messagesRate }) => {
            if (chart === undefined) {
                return
            }
            const readings = messages[config.app]
            if (readings === undefined) {
                chart.destroy()
                chart = undefined
                return
            }
            chart.data.labels = Object.keys(readings[lines[0].key])
            chart.options.scales.y.max = Math.max(highest(readings), highest(messagesRate[config.app]))
            lines.forEach((line, index) => { chart.data.datasets[index].data = data(readings, messagesRate[config.app], line) })
            chart.update()
        })
    },
}))
</script>
@endscript
