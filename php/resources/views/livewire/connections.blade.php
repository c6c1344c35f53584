<x-pulse::card :cols="$cols" :rows="$rows" :class="$class">
    <x-pulse::card-header
        name="Reverb Connections"
        title="Time: {{ number_format($time) }}ms; Run at: {{ $runAt }};"
        details="past {{ $this->periodForHumans() }}"
    >
        <x-slot:icon>
            <x-reverb::icons.reverb />
        </x-slot:icon>
        <x-slot:actions>
            <div class="flex flex-wrap gap-4">
                @foreach (['max' => 'Peak', 'avg' => 'Average'] as $aggregate => $label)
                    <div class="flex items-center gap-2 text-xs text-gray-600 dark:text-gray-400 font-medium">
                        <div class="h-0.5 w-3 rounded-full bg-[{{ $this->colors[$aggregate] }}]"></div>
                        {{ $label }}
                    </div>
                @endforeach
            </div>
        </x-slot:actions>
    </x-pulse::card-header>

    <x-pulse::scroll :expand="$expand" wire:poll.5s="">
        @if ($connections->isEmpty())
            <x-pulse::no-results />
        @else
            <div class="grid gap-3 mx-px mb-px">
                @foreach ($connections as $app => $readings)
                    <div wire:key="reverb-connections:{{ $app }}">
                        <h3 class="font-bold text-gray-700 dark:text-gray-300">{{ $app }}</h3>
                        <div class="mt-3 relative">
                            <div
                                class="absolute -left-px -top-2 max-w-fit h-4 flex items-center px-1 text-xs leading-none text-white font-bold bg-purple-500 rounded"
                                title="Peak connections in the past {{ $this->periodForHumans() }}"
                            >
                                {{ number_format($readings->flatten()->max() ?? 0) }}
                            </div>
                            <div
                                wire:ignore
                                class="h-14"
                                x-data="reverbConnectionsChart({ app: @js((string) $app), readings: @js($readings) })"
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
Alpine.data('reverbConnectionsChart', (config) => ({
    init() {
        const lines = [
            { key: 'reverb_connections:max', label: 'Peak', color: '{{ $this->colors['max'] }}' },
            { key: 'reverb_connections:avg', label: 'Average', color: '{{ $this->colors['avg'] }}' },
        ]
        const highest = (readings) => Math.max(0, ...lines.map(({ key }) => Math.max(...Object.values(readings[key]))))
        let chart = new Chart(this.$refs.canvas, {
            type: 'line',
            data: {
                labels: Object.keys(config.readings[lines[0].key]),
                datasets: lines.map(({ key, label, color }, order) => ({
                    label,
                    borderColor: color,
                    data: Object.values(config.readings[key]),
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
                    y: { display: false, min: 0, max: highest(config.readings) },
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

        Livewire.on('reverb-connections-chart-update', ({ connections }) => {
            if (chart === undefined) {
                return
            }
            const readings = connections[config.app]
            if (readings === undefined) {
                chart.destroy()
                chart = undefined
                return
            }
            chart.data.labels = Object.keys(readings[lines[0].key])
            chart.options.scales.y.max = highest(readings)
            lines.forEach(({ key }, index) => { chart.data.datasets[index].data = Object.values(readings[key]) })
            chart.update()
        })
    },
}))
</script>
@endscript
