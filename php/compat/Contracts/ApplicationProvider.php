<?php

declare(strict_types=1);

namespace Laravel\Reverb\Contracts;

use Illuminate\Support\Collection;
use Laravel\Reverb\Application;
use Laravel\Reverb\Exceptions\InvalidApplication;

/**
 * laravel/reverb's app provider contract, under its name, so that a provider written for
 * Reverb still loads where reverb-rs replaces it. reverb-rs serves it through
 * `ReverbRs\Laravel\Providers\ReverbProviderAdapter`; its own contract is
 * `ReverbRs\Laravel\Contracts\ApplicationProvider`.
 */
interface ApplicationProvider
{
    /**
     * Every app.
     *
     * @return Collection<int, Application>
     */
    public function all(): Collection;

    /**
     * The app with this id.
     *
     * @throws InvalidApplication when there is none
     */
    public function findById(string $id): Application;

    /**
     * The app with this key.
     *
     * @throws InvalidApplication when there is none
     */
    public function findByKey(string $key): Application;
}
