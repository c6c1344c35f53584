<?php

declare(strict_types=1);

namespace ReverbRs\Laravel\Providers;

use Illuminate\Database\Eloquent\Builder;
use ReverbRs\Laravel\Contracts\ApplicationProvider;
use ReverbRs\Laravel\Exceptions\InvalidApp;
use ReverbRs\Laravel\Models\ReverbApp;

/**
 * The `database` app provider: the rows of the `reverb_apps` table (ReverbApp), on any
 * connection Laravel supports (SQLite, MariaDB/MySQL, PostgreSQL), so apps can be managed
 * while the server runs.
 */
final class DatabaseApplicationProvider implements ApplicationProvider
{
    /** Rows read per query by all(): a large table is walked in chunks, never loaded at once. */
    private const CHUNK = 1000;

    /**
     * @param string|null $connection the connection name; null takes the model's
     *     (`apps.database.connection`, else the default connection)
     * @param string $table the table the migration created
     */
    public function __construct(private ?string $connection, private string $table)
    {
    }

    /** Every row, by id, in chunks; a row that cannot be read is yielded as its InvalidApp. */
    public function all(): iterable
    {
        foreach ($this->query()->lazyById(self::CHUNK, 'id') as $row) {
            try {
                $app = $row->toReverbApp();
            } catch (InvalidApp $e) {
                $app = $e;
            }
            yield $app;
        }
    }

    /** The row whose id is `$id`. */
    public function findById(string $id): ?array
    {
        return $this->first('id', $id);
    }

    /** The row whose key is `$key`. */
    public function findByKey(string $key): ?array
    {
        return $this->first('key', $key);
    }

    /** Where this provider's apps come from, for the messages naming a faulty one. */
    public function source(): string
    {
        return "{$this->table} row";
    }

    /**
     * The row whose `$column` is exactly `$value`: a case-insensitive collation (MySQL's
     * default) may find 'ABC' for 'abc', and app keys and ids are case-sensitive.
     */
    private function first(string $column, string $value): ?array
    {
        $row = $this->query()->where($column, $value)->get()
            ->first(fn (ReverbApp $row) => (string) $row->getAttributes()[$column] === $value);

        return $row?->toReverbApp();
    }

    private function query(): Builder
    {
        return (new ReverbApp())->setConnection($this->connection)->setTable($this->table)->newQuery();
    }
}
