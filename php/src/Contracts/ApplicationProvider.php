<?php

declare(strict_types=1);

namespace ReverbRs\Laravel\Contracts;

use ReverbRs\Laravel\Exceptions\InvalidApp;

/**
 * Where `reverb:start` gets the apps it serves: config/reverb.php, the `reverb_apps` table or
 * a provider of the application's own, chosen with `apps.provider`. Each app is an array with
 * the keys of a config/reverb.php app entry (`app_id`, `key`, `secret`, `allowed_origins`,
 * `ping_interval`, ...) and `enabled` (true when missing).
 */
interface ApplicationProvider
{
    /**
     * Every app, read when the server starts and again on each reload. An entry the provider
     * cannot read is yielded as an InvalidApp in its place (not thrown), so that the other apps
     * are still served and the faulty one is reported.
     *
     * @return iterable<array<string, mixed>|InvalidApp>
     */
    public function all(): iterable;

    /**
     * The app with this `app_id`, or null when there is none.
     *
     * @throws InvalidApp when the app exists but cannot be read
     */
    public function findById(string $id): ?array;

    /**
     * The app with this public `key`, or null when there is none.
     *
     * @throws InvalidApp when the app exists but cannot be read
     */
    public function findByKey(string $key): ?array;
}
