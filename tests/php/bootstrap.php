<?php

declare(strict_types=1);

if (!extension_loaded('reverb_rs')) {
    fwrite(STDERR, "The reverb_rs extension is not loaded. Run the tests with `make test-php`, or:\n"
        . "  php -d extension=target/release/libreverb_rs.so /usr/bin/phpunit\n");
    exit(1);
}

spl_autoload_register(function (string $class): void {
    $prefix = 'ReverbRs\\Tests\\';
    if (str_starts_with($class, $prefix)) {
        require __DIR__ . '/' . str_replace('\\', '/', substr($class, strlen($prefix))) . '.php';
    }
});
