<?php

declare(strict_types=1);

namespace ReverbRs\Tests;

use PHPUnit\Framework\TestCase;

/**
 * Tests of the extension's classes: without the extension loaded they fail, saying how to load
 * it, while the tests that need only PHP still run.
 */
abstract class ExtensionTestCase extends TestCase
{
    /** Fails every test of the class at once when the extension is missing. */
    public static function setUpBeforeClass(): void
    {
        if (!extension_loaded('reverb_rs')) {
            self::fail("The reverb_rs extension is not loaded. Run the tests with `make test-php`, or:\n"
                . '  php -d extension=target/release/libreverb_rs.so /usr/bin/phpunit');
        }
    }
}
