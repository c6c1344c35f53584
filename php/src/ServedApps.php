<?php

declare(strict_types=1);

namespace ReverbRs\Laravel;

use Closure;
use ReverbRs\Laravel\Contracts\ApplicationProvider;
use ReverbRs\Laravel\Exceptions\InvalidApp;
use ReverbRs\Laravel\Providers\ConfigApplicationProvider;
use ReverbRs\Laravel\Providers\ReverbProviderAdapter;
use Throwable;

/**
 * The apps a running `reverb:start` serves, as its app provider gives them: the set the server
 * starts with, what changed each time the provider is read again (the whole set then goes to
 * `ReverbRs\Server::setApps()`), and the answers to the engine's on-demand lookups. A faulty
 * entry, an entry the engine refuses or a failing provider is reported through `$warn`, once
 * until it changes, and never stops the server: the other apps go on being served, and an app
 * already served keeps its last good version.
 */
final class ServedApps
{
    /** @var array<string, array<string, mixed>> what the engine serves, by app_id, in the provider's order */
    private array $entries = [];

    /** @var array<string, array<string, mixed>> entries the engine refused, by app_id, not offered again unchanged */
    private array $refused = [];

    /** @var array<string, string> the last problem reported about each app (or entry without an id) */
    private array $problems = [];

    /**
     * @param string $source where the provider's apps come from, for messages ("reverb_apps row")
     * @param bool $onDemand whether apps are looked up when the engine asks for them (`apps.lookup.enabled`)
     * @param Closure(string): void $warn prints a warning
     */
    public function __construct(
        private ApplicationProvider $provider,
        private string $source,
        private bool $onDemand,
        private Closure $warn,
    ) {
    }

    /**
     * Whether the apps come from config/reverb.php, which is read once, when the application
     * boots: reading it again finds nothing new, and a change to it takes `reverb:restart`.
     */
    public function fromConfigFile(): bool
    {
        return $this->provider instanceof ConfigApplicationProvider;
    }

    /** Whether apps are looked up one by one when the engine asks for them, rather than all read at start. */
    public function onDemand(): bool
    {
        return $this->onDemand;
    }

    /** Where the apps come from, for the banner. */
    public function source(): string
    {
        return $this->source;
    }

    /**
     * Reads every app for the server's start, and returns those to construct it with (none
     * in on-demand mode; disabled apps are left out). Entries of config/reverb.php go as they
     * are, so that a mistake in the file stops the start, as it always has. From any other
     * provider a faulty entry is reported and left out, and a provider that fails part way
     * leaves the apps it gave before.
     *
     * @return list<mixed>
     */
    public function load(): array
    {
        if ($this->onDemand) {
            return [];
        }
        if ($this->fromConfigFile()) {
            $served = fn ($app) => !is_array($app) || self::enabled($app);
            $apps = array_values(array_filter([...$this->provider->all()], $served));
            foreach ($apps as $app) {
                if (is_array($app) && is_scalar($app['app_id'] ?? null)) {
                    $this->entries[(string) $app['app_id']] = $app;
                }
            }
            return $apps;
        }
        [$this->entries, $error] = $this->read();
        if ($error !== null) {
            ($this->warn)(sprintf(
                'Could not read every app (%s): %s. Serving the %d read before it; the next reload tries again.',
                $this->source,
                $error->getMessage(),
                count($this->entries)
            ));
        }

        return $this->serving();
    }

    /**
     * The enabled apps, in order: those load() returned, less any refused since.
     *
     * @return list<array<string, mixed>>
     */
    public function serving(): array
    {
        return array_values(array_filter($this->entries, [self::class, 'enabled']));
    }

    /**
     * The server's constructor refused entry `$index` of serving() with `$message` (which names
     * its key, `apps.apps.3.ping_interval ...`): it is reported and left out, and returns
     * whether there was such an entry.
     */
    public function refuse(int $index, string $message): bool
    {
        $id = array_keys(array_filter($this->entries, [self::class, 'enabled']))[$index] ?? null;
        if ($id === null) {
            return false;
        }
        $id = (string) $id;
        $this->report($id, InvalidApp::describe($id, $this->source, self::problem($message)));
        $this->refused[$id] = $this->entries[$id];
        unset($this->entries[$id]);

        return true;
    }

    /**
     * Reads the provider again (every app, or in on-demand mode the apps answered so far, by
     * id) and, when something changed, pushes the whole set with `$setApps`
     * (`ReverbRs\Server::setApps()`, which returns the entries it refused). Returns the status
     * line ("Apps reloaded: 2 added, 1 changed, 1 removed"), or null when no served app changed
     * or the provider could not be read (then everything stays as it was).
     *
     * @param Closure(list<array<string, mixed>>): list<array{app_id: ?string, key: string, message: string}> $setApps
     */
    public function reload(Closure $setApps): ?string
    {
        [$fresh, $error] = $this->onDemand ? $this->readAnswered() : $this->read();
        if ($error !== null) {
            ($this->warn)("Apps not reloaded: could not read them ({$this->source}): {$error->getMessage()}");
            return null;
        }
        foreach ($this->refused as $id => $entry) {
            if (($fresh[$id] ?? null) !== $entry) {
                unset($this->refused[$id]);
            } elseif (isset($this->entries[$id])) {
                $fresh[$id] = $this->entries[$id];
            } else {
                unset($fresh[$id]);
            }
        }
        if (self::same($this->entries, $fresh)) {
            return null;
        }
        $ids = array_keys($fresh);
        foreach ($setApps(array_values($fresh)) as $refusal) {
            $id = $ids[self::index((string) $refusal['key'])] ?? (string) $refusal['app_id'];
            $problem = self::problem((string) $refusal['message'], (string) $refusal['key']);
            $this->report($id, InvalidApp::describe($id, $this->source, $problem));
            $this->refused[$id] = $fresh[$id] ?? [];
            if (isset($this->entries[$id])) {
                $fresh[$id] = $this->entries[$id];
            } else {
                unset($fresh[$id]);
            }
        }
        $summary = self::summary($this->entries, $fresh);
        $this->entries = $fresh;

        return $summary;
    }

    /**
     * Answers the engine's `app_lookup` event (`by` 'key' or 'id', `value`, `lookup`) with the
     * provider's app, through `$answer` (`ReverbRs\Server::answerAppLookup()`, which returns
     * why the engine refused the entry, or null). An app the provider cannot read is answered
     * as unknown. A provider that fails leaves the lookup unanswered, so that an app that may
     * well exist is not remembered as unknown; the engine's timeout applies.
     *
     * @param array{lookup: int, by: string, value: string} $event
     * @param Closure(int, ?array<string, mixed>): ?string $answer
     */
    public function answer(array $event, Closure $answer): void
    {
        $value = (string) $event['value'];
        $by = $event['by'] === 'id' ? 'id' : 'key';
        try {
            $app = $by === 'id' ? $this->provider->findById($value) : $this->provider->findByKey($value);
        } catch (InvalidApp $e) {
            $this->report($e->appId ?? $e->getMessage(), $e->getMessage());
            $app = null;
        } catch (Throwable $e) {
            ($this->warn)("Could not look up the app with {$by} '{$value}' ({$this->source}): {$e->getMessage()}");
            return;
        }
        $error = $answer((int) $event['lookup'], $app);
        if ($app === null) {
            return;
        }
        $id = is_scalar($app['app_id'] ?? null) ? (string) $app['app_id'] : null;
        if ($error !== null) {
            $this->report((string) $id, InvalidApp::describe($id, $this->source, self::problem($error)));
            return;
        }
        unset($this->problems[$id], $this->refused[$id]);
        $this->entries[(string) $id] = $app;
    }

    /**
     * Every app of the provider, by app_id. A faulty entry is reported; an app already served
     * then keeps its current version. A provider that fails part way returns what it gave
     * before with the error.
     *
     * @return array{0: array<string, array<string, mixed>>, 1: ?Throwable}
     */
    private function read(): array
    {
        $fresh = [];
        $bad = [];
        try {
            foreach ($this->provider->all() as $app) {
                $problem = $this->problemWith($app, $fresh);
                if ($problem === null) {
                    $fresh[(string) $app['app_id']] = $app;
                    continue;
                }
                $id = $problem->appId;
                $bad[$id ?? $problem->getMessage()] = true;
                $this->report($id ?? $problem->getMessage(), $problem->getMessage());
                if ($id !== null && !isset($fresh[$id]) && isset($this->entries[$id])) {
                    $fresh[$id] = $this->entries[$id];
                }
            }
        } catch (Throwable $e) {
            return [$fresh, $e];
        }
        $this->problems = array_intersect_key($this->problems, $bad);

        return [$fresh, null];
    }

    /**
     * Why an item of all() cannot be served, or null when it can: an InvalidApp the provider
     * yielded, something else than an array, an entry without an app_id, or the second with
     * an app_id already read (in `$fresh`).
     */
    private function problemWith(mixed $app, array $fresh): ?InvalidApp
    {
        if ($app instanceof InvalidApp) {
            return $app;
        }
        if (!is_array($app)) {
            $hint = is_object($app) && method_exists($app, 'id') ? ' (' . ReverbProviderAdapter::HINT . ')' : '';
            return new InvalidApp(null, $this->source, 'all() gave ' . get_debug_type($app) . " instead of an array{$hint}");
        }
        $id = $app['app_id'] ?? null;
        if (!is_scalar($id) || (string) $id === '') {
            return new InvalidApp(null, $this->source, 'app_id is missing (key ' . json_encode($app['key'] ?? null) . ')');
        }
        if (isset($fresh[(string) $id])) {
            return new InvalidApp((string) $id, $this->source, 'app_id is listed twice; the first is served');
        }

        return null;
    }

    /**
     * The apps answered so far, read again by id: one gone from the provider is dropped, one
     * it cannot read keeps its current version.
     *
     * @return array{0: array<string, array<string, mixed>>, 1: ?Throwable}
     */
    private function readAnswered(): array
    {
        $fresh = [];
        foreach ($this->entries as $id => $current) {
            try {
                $app = $this->provider->findById((string) $id);
                unset($this->problems[$id]);
            } catch (InvalidApp $e) {
                $this->report((string) $id, $e->getMessage());
                $app = $current;
            } catch (Throwable $e) {
                return [$fresh, $e];
            }
            if ($app !== null) {
                $fresh[$id] = $app;
            }
        }

        return [$fresh, null];
    }

    /** Warns with `$message` unless it is what was last reported about `$subject`. */
    private function report(string $subject, string $message): void
    {
        if (($this->problems[$subject] ?? null) === $message) {
            return;
        }
        $this->problems[$subject] = $message;
        ($this->warn)($message);
    }

    /**
     * Whether an entry is served: `enabled` true, missing, or anything but a false value
     * (the engine says what is wrong with one it cannot read).
     */
    private static function enabled(array $app): bool
    {
        return filter_var($app['enabled'] ?? true, FILTER_VALIDATE_BOOLEAN, FILTER_NULL_ON_FAILURE) !== false;
    }

    /** Whether two sets hold the same entries, whatever their order. */
    private static function same(array $before, array $after): bool
    {
        if (count($before) !== count($after)) {
            return false;
        }
        foreach ($after as $id => $app) {
            if (!array_key_exists($id, $before) || $before[$id] !== $app) {
                return false;
            }
        }

        return true;
    }

    /**
     * "Apps reloaded: 2 added, 1 changed, 1 removed", counting served apps: one disabled counts
     * as removed, one enabled again as added; null when no served app changed.
     */
    private static function summary(array $before, array $after): ?string
    {
        $served = fn (array $set) => array_filter($set, [self::class, 'enabled']);
        $was = $served($before);
        $is = $served($after);
        $added = count(array_diff_key($is, $was));
        $removed = count(array_diff_key($was, $is));
        $kept = array_intersect_key($is, $was);
        $changed = count(array_filter($kept, fn ($app, $id) => $was[$id] !== $app, ARRAY_FILTER_USE_BOTH));
        if ($added + $removed + $changed === 0) {
            return null;
        }

        return "Apps reloaded: {$added} added, {$changed} changed, {$removed} removed";
    }

    /** The position in the pushed list of a refused key (`apps.apps.3.ping_interval` is 3). */
    private static function index(string $key): int
    {
        return preg_match('/^apps\.apps\.(\d+)/', $key, $match) === 1 ? (int) $match[1] : -1;
    }

    /**
     * An engine error as the problem of one entry: `apps.apps.3.ping_interval must be greater
     * than 0, got 0` becomes `ping_interval must be greater than 0, got 0`; a message without
     * the key gets it in front.
     */
    private static function problem(string $message, ?string $key = null): string
    {
        if ($key !== null && !str_starts_with($message, $key)) {
            $message = "{$key} {$message}";
        }

        return (string) preg_replace('/^apps\.apps\.\d+\.?\s*/', '', $message);
    }
}
