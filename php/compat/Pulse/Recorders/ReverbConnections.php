<?php

declare(strict_types=1);

namespace Laravel\Reverb\Pulse\Recorders;

/**
 * The name Laravel Reverb gives its Pulse connections recorder, so that a config/pulse.php
 * written for Reverb still boots with reverb-rs. It records nothing yet: Pulse skips a
 * recorder without a `$listen` event or a `register()` method.
 */
final class ReverbConnections
{
}
