<?php

declare(strict_types=1);

namespace ReverbRs\Tests\Support;

use Illuminate\Config\Repository;
use Illuminate\Container\Container;
use Illuminate\Database\Connection;
use Illuminate\Database\Connectors\ConnectionFactory;
use Illuminate\Database\DatabaseManager;
use Illuminate\Database\Eloquent\Model;
use Illuminate\Support\Facades\Facade;

/**
 * A Laravel container with in-memory SQLite connections (`testing`, the default, and
 * `other`) and the package's `reverb_apps` migration run, for the tests of the `database`
 * app provider. Needs PHP's pdo_sqlite (Debian's php8.2-sqlite3).
 */
final class AppDatabase
{
    public const MIGRATION = __DIR__ . '/../../../php/database/migrations/2026_01_01_000000_create_reverb_apps_table.php';

    public readonly Container $app;

    /** Sets up the container with `$reverb` as config('reverb') and runs the migration. */
    public function __construct(array $reverb = [])
    {
        $sqlite = ['driver' => 'sqlite', 'database' => ':memory:', 'prefix' => '', 'foreign_key_constraints' => false];
        $this->app = new Container();
        Container::setInstance($this->app);
        $this->app->instance('config', new Repository([
            'database' => ['default' => 'testing', 'connections' => ['testing' => $sqlite, 'other' => $sqlite]],
            'reverb' => $reverb,
        ]));
        $db = new DatabaseManager($this->app, new ConnectionFactory($this->app));
        $this->app->instance('db', $db);
        Model::setConnectionResolver($db);
        Facade::setFacadeApplication($this->app);
        (require self::MIGRATION)->up();
    }

    /** The connection the migration ran on. */
    public function connection(?string $name = null): Connection
    {
        return $this->app->make('db')->connection($name ?? $this->app->make('config')->get('reverb.apps.database.connection'));
    }

    /** Inserts a row of the apps table as raw column values (JSON given as text), filling id, key and secret. */
    public function insert(array $row, string $table = 'reverb_apps'): void
    {
        $id = $row['id'] ?? 'app-' . bin2hex(random_bytes(4));
        $this->connection()->table($table)->insert($row + ['id' => $id, 'key' => "key-{$id}", 'secret' => "secret-{$id}"]);
    }

    /** Forgets the container, the facades and the connections. */
    public function tearDown(): void
    {
        Facade::clearResolvedInstances();
        Facade::setFacadeApplication(null);
        Model::unsetConnectionResolver();
        Container::setInstance(null);
    }
}
