<?php

/**
 * Router for `php -S`: serves the demo page and the pusher-js browser build from node_modules.
 */

declare(strict_types=1);

$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
if ($path === '/pusher.min.js') {
    header('Content-Type: application/javascript');
    readfile(__DIR__ . '/../../node_modules/pusher-js/dist/web/pusher.min.js');
    return true;
}
if ($path === '/' || $path === '/index.html') {
    header('Content-Type: text/html; charset=utf-8');
    readfile(__DIR__ . '/public/index.html');
    return true;
}
http_response_code(404);
echo "Not found\n";
return true;
