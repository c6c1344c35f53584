<?php

declare(strict_types=1);

namespace ReverbRs\Laravel\Models;

use Illuminate\Database\Eloquent\Model;
use JsonException;
use ReverbRs\Laravel\Exceptions\InvalidApp;

/**
 * A row of the `reverb_apps` table (`apps.database.table`, on `apps.database.connection`):
 * one app served by the `database` provider. The columns are the keys of a config/reverb.php
 * app entry, with `id` for `app_id`; a null column takes the server's default. Apps can be
 * added, changed, disabled or deleted through this model while the server runs.
 *
 * @property string $id
 * @property string $key
 * @property string $secret
 * @property bool $enabled
 */
final class ReverbApp extends Model
{
    /** Columns holding whole numbers, in the order they appear in an app entry. */
    private const INTEGERS = [
        'ping_interval',
        'activity_timeout',
        'max_connections',
        'max_message_size',
        'max_client_events_per_second',
        'max_channels_per_connection',
        'max_presence_members',
        'max_presence_user_info_bytes',
        'max_channels_per_event',
        'max_events_per_batch',
        'cache_ttl',
    ];

    /** JSON columns, and whether each holds a list (true) or an object (false). */
    private const JSON = [
        'allowed_origins' => true,
        'rate_limiting' => false,
        'webhooks' => true,
        'options' => false,
    ];

    /** @var bool */
    public $incrementing = false;

    /** @var string */
    protected $keyType = 'string';

    /** @var array<int, string> */
    protected $fillable = [
        'id', 'key', 'secret', 'allowed_origins', 'ping_interval', 'activity_timeout',
        'max_connections', 'max_message_size', 'accept_client_events_from', 'rate_limiting',
        'max_client_events_per_second', 'max_channels_per_connection', 'max_presence_members',
        'max_presence_user_info_bytes', 'max_channels_per_event', 'max_events_per_batch',
        'cache_ttl', 'webhooks', 'subscription_count', 'options', 'enabled',
    ];

    /** @var array<string, string> */
    protected $casts = [
        'allowed_origins' => 'array',
        'rate_limiting' => 'array',
        'webhooks' => 'array',
        'options' => 'array',
        'ping_interval' => 'integer',
        'activity_timeout' => 'integer',
        'max_connections' => 'integer',
        'max_message_size' => 'integer',
        'max_client_events_per_second' => 'integer',
        'max_channels_per_connection' => 'integer',
        'max_presence_members' => 'integer',
        'max_presence_user_info_bytes' => 'integer',
        'max_channels_per_event' => 'integer',
        'max_events_per_batch' => 'integer',
        'cache_ttl' => 'integer',
        'subscription_count' => 'boolean',
        'enabled' => 'boolean',
    ];

    /** The table set on this instance, else `reverb.apps.database.table`. */
    public function getTable()
    {
        return $this->table ?? (string) config('reverb.apps.database.table', 'reverb_apps');
    }

    /** The connection set on this instance, else `reverb.apps.database.connection` (null: the default one). */
    public function getConnectionName()
    {
        return $this->connection ?? config('reverb.apps.database.connection');
    }

    /**
     * The row as a config/reverb.php app entry: `id` becomes `app_id`, null columns are left
     * out (the server's defaults apply), JSON columns are decoded.
     *
     * @throws InvalidApp naming the column when a value has the wrong type or is not the JSON it must be
     */
    public function toReverbApp(): array
    {
        $row = $this->getAttributes();
        $id = isset($row['id']) ? (string) $row['id'] : null;
        $fail = fn (string $problem) => new InvalidApp($id, "{$this->getTable()} row", $problem);

        $app = ['app_id' => $id, 'key' => $row['key'] ?? null, 'secret' => $row['secret'] ?? null];
        foreach (self::JSON as $column => $list) {
            if (isset($row[$column])) {
                $app[$column] = self::json($column, $row[$column], $list, $fail);
            }
        }
        foreach (self::INTEGERS as $column) {
            if (isset($row[$column])) {
                $app[$column] = self::integer($column, $row[$column], $fail);
            }
        }
        if (isset($row['accept_client_events_from'])) {
            $app['accept_client_events_from'] = (string) $row['accept_client_events_from'];
        }
        $app['subscription_count'] = self::boolean('subscription_count', $row['subscription_count'] ?? false, $fail);
        $app['enabled'] = self::boolean('enabled', $row['enabled'] ?? true, $fail);

        return $app;
    }

    /** A JSON column's value, which must decode to a list or to an object. */
    private static function json(string $column, mixed $raw, bool $list, callable $fail): array
    {
        $kind = $list ? 'a JSON list' : 'a JSON object';
        try {
            $value = is_string($raw) ? json_decode($raw, true, 64, JSON_THROW_ON_ERROR) : $raw;
        } catch (JsonException $e) {
            throw $fail("{$column} must be {$kind}, but is not JSON ({$e->getMessage()})");
        }
        if (!is_array($value) || ($value !== [] && array_is_list($value) !== $list)) {
            throw $fail("{$column} must be {$kind}, got " . self::shown($raw));
        }
        if ($column === 'allowed_origins' && array_filter($value, 'is_string') !== $value) {
            throw $fail("{$column} must be a JSON list of strings, got " . self::shown($raw));
        }
        $objects = array_filter($value, fn ($item) => is_array($item) && !array_is_list($item));
        if ($column === 'webhooks' && $objects !== $value) {
            throw $fail("{$column} must be a JSON list of objects, got " . self::shown($raw));
        }

        return $value;
    }

    /** An integer column's value; SQLite, for one, keeps whatever text it was given. */
    private static function integer(string $column, mixed $raw, callable $fail): int
    {
        if (is_int($raw) || (is_string($raw) && preg_match('/^-?\d+$/', $raw) === 1)) {
            return (int) $raw;
        }

        throw $fail("{$column} must be an integer, got " . self::shown($raw));
    }

    /** A boolean column's value: true, false, 1, 0 or their text. */
    private static function boolean(string $column, mixed $raw, callable $fail): bool
    {
        $value = filter_var($raw, FILTER_VALIDATE_BOOLEAN, FILTER_NULL_ON_FAILURE);
        if ($value === null) {
            throw $fail("{$column} must be a boolean, got " . self::shown($raw));
        }

        return $value;
    }

    /** A raw column value for a message, shortened. */
    private static function shown(mixed $raw): string
    {
        $text = is_string($raw) ? $raw : (string) json_encode($raw);

        return "'" . (strlen($text) > 60 ? substr($text, 0, 60) . '…' : $text) . "'";
    }
}
