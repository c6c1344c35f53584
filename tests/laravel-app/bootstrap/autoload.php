<?php

/*
| The fixture app has no Composer vendor/ directory: Laravel comes from Debian's
| php-laravel-framework, and the two PSR-4 roots (the app and the reverb-rs Laravel
| package, ../../php/src) are registered here by hand. REVERB_RS_LARAVEL_SRC points at the
| package elsewhere, for copies of this app outside the repository (the tests make some).
*/

require_once '/usr/share/php/Illuminate/autoload.php';

spl_autoload_register(static function (string $class): void {
    static $roots = null;
    $roots ??= [
        'App\\' => dirname(__DIR__).'/app/',
        'ReverbRs\\Laravel\\' => rtrim(getenv('REVERB_RS_LARAVEL_SRC') ?: dirname(__DIR__, 3).'/php/src', '/').'/',
    ];

    foreach ($roots as $prefix => $dir) {
        if (strncmp($class, $prefix, strlen($prefix)) === 0) {
            $file = $dir.str_replace('\\', '/', substr($class, strlen($prefix))).'.php';
            if (is_file($file)) {
                require $file;
            }

            return;
        }
    }
});
