<?php

declare(strict_types=1);

namespace ReverbRs\Laravel\Exceptions;

use RuntimeException;

/**
 * An app entry that cannot be served as it is, named by its id and where it came from, e.g.
 * "App 'shop-3' (reverb_apps row): allowed_origins must be a JSON list". Providers yield it in
 * place of the entry, so that `reverb:start` reports it and goes on serving the other apps.
 */
final class InvalidApp extends RuntimeException
{
    /**
     * @param string|null $appId the entry's `app_id`, when it has one
     * @param string $source where the entry came from ("reverb_apps row", "config/reverb.php")
     * @param string $problem what is wrong, naming the key ("allowed_origins must be a JSON list")
     */
    public function __construct(
        public readonly ?string $appId,
        public readonly string $source,
        public readonly string $problem,
    ) {
        parent::__construct(self::describe($appId, $source, $problem));
    }

    /** The message for an entry with this id, source and problem, also for entries the engine refused. */
    public static function describe(?string $appId, string $source, string $problem): string
    {
        $app = $appId === null ? 'An app' : "App '{$appId}'";

        return "{$app} ({$source}): {$problem}";
    }
}
