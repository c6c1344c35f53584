<?php

declare(strict_types=1);

// Laravel comes from Debian's php-laravel-framework (8.83); the package's classes and the
// tests' own are loaded by prefix.
require_once '/usr/share/php/Illuminate/autoload.php';

spl_autoload_register(function (string $class): void {
    $roots = [
        'ReverbRs\\Tests\\' => __DIR__ . '/',
        'ReverbRs\\Laravel\\' => dirname(__DIR__, 2) . '/php/src/',
    ];
    foreach ($roots as $prefix => $directory) {
        if (str_starts_with($class, $prefix)) {
            require $directory . str_replace('\\', '/', substr($class, strlen($prefix))) . '.php';
            return;
        }
    }
});
