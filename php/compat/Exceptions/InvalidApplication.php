<?php

declare(strict_types=1);

namespace Laravel\Reverb\Exceptions;

use Exception;

/**
 * What a laravel/reverb app provider throws for an app that does not exist, under Reverb's
 * name, for providers written for Reverb (ReverbProviderAdapter reads it as "no such app").
 */
class InvalidApplication extends Exception
{
    /** @var string */
    protected $message = 'Application does not exist';
}
