<?php

/**
 * A reverb-rs server with many apps for benchmarks: APPS apps (10,000 by default), app N
 * being app-N / key-N / secret-N, on BENCH_HOST:BENCH_PORT (127.0.0.1:6001), serving until
 * SIGINT or SIGTERM.
 *
 * - MODE=preload (the default): every app is in `apps.apps` when the server is built.
 * - MODE=lookup: the server starts with no app and `apps.lookup` on; each `app_lookup` is
 *   answered from an SQLite table of the APPS apps in a temporary file, one indexed query per
 *   answer, as a database app provider would.
 *
 * Prints one JSON line, `{"mode", "apps", "start_seconds", "rss_before", "rss_after"}` (the
 * time from `new Server` to `start()` returning; VmRSS in bytes before the server was built
 * and after it started), then `listening on ws://127.0.0.1:PORT pid PID`. On exit it prints
 * `{"lookups", "refused", "dropped_events"}`: lookups answered, answers the server did not
 * take, and engine events lost because the queue was full.
 */

declare(strict_types=1);

require_once __DIR__ . '/serve.php';

/** This process's resident set size in bytes, from /proc/self/status. */
$rssBytes = static function (): int {
    preg_match('/^VmRSS:\s+(\d+) kB/m', (string) file_get_contents('/proc/self/status'), $match);

    return (int) $match[1] * 1024;
};

/** Creates the SQLite table of apps in a temporary file; returns the connection and the file. */
$appDatabase = static function (int $apps): array {
    $file = (string) tempnam(sys_get_temp_dir(), 'bench-apps-');
    $db = new PDO("sqlite:$file", null, null, [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION]);
    $db->exec('CREATE TABLE apps (app_id TEXT PRIMARY KEY, key TEXT NOT NULL UNIQUE, secret TEXT NOT NULL)');
    $db->beginTransaction();
    $insert = $db->prepare('INSERT INTO apps (app_id, key, secret) VALUES (?, ?, ?)');
    for ($n = 0; $n < $apps; $n++) {
        $insert->execute(["app-$n", "key-$n", "secret-$n"]);
    }
    $db->commit();

    return [$db, $file];
};

/**
 * The app entry whose key or id (`$by`) is `$value`, or null. A statement is prepared for
 * each query, as Laravel's query builder does.
 */
$findApp = static function (PDO $db, string $by, string $value): ?array {
    $column = $by === 'id' ? 'app_id' : 'key';
    $select = $db->prepare("SELECT app_id, key, secret FROM apps WHERE $column = ? LIMIT 1");
    $select->execute([$value]);
    $row = $select->fetch(PDO::FETCH_ASSOC);

    return $row === false ? null : $row;
};

$mode = getenv('MODE') ?: 'preload';
$apps = (int) (getenv('APPS') ?: 10000);
if (!in_array($mode, ['preload', 'lookup'], true) || $apps < 1) {
    fwrite(STDERR, "MODE must be preload or lookup, APPS at least 1\n");
    exit(1);
}

$appsConfig = ['apps' => []];
$db = null;
$file = null;
if ($mode === 'preload') {
    for ($n = 0; $n < $apps; $n++) {
        $appsConfig['apps'][] = ['app_id' => "app-$n", 'key' => "key-$n", 'secret' => "secret-$n"];
    }
} else {
    [$db, $file] = $appDatabase($apps);
    $appsConfig['lookup'] = ['enabled' => true, 'timeout' => 2, 'cache_ttl' => 300, 'negative_ttl' => 30];
}

// Measured after the entries exist, so the growth is the server's own.
$rssBefore = $rssBytes();
$started = hrtime(true);
$server = new ReverbRs\Server([
    'servers' => ['reverb' => [
        'host' => getenv('BENCH_HOST') ?: '127.0.0.1',
        'port' => (int) (getenv('BENCH_PORT') ?: 6001),
        'report_received_messages' => false,
    ]],
    'apps' => $appsConfig,
]);
$server->start();
$startSeconds = (hrtime(true) - $started) / 1e9;
fwrite(STDOUT, json_encode([
    'mode' => $mode,
    'apps' => $apps,
    'start_seconds' => $startSeconds,
    'rss_before' => $rssBefore,
    'rss_after' => $rssBytes(),
]) . "\n");

$lookups = 0;
$refused = 0;
serveUntilSignalled($server, function (array $event) use ($server, $db, $findApp, &$lookups, &$refused): void {
    if ($event['type'] !== 'app_lookup' || $db === null) {
        return;
    }
    $lookups++;
    $app = $findApp($db, $event['by'], $event['value']);
    if ($server->answerAppLookup($event['lookup'], $app) !== null) {
        $refused++;
    }
});
fwrite(STDOUT, json_encode([
    'lookups' => $lookups,
    'refused' => $refused,
    'dropped_events' => $server->droppedEvents(),
]) . "\n");
if ($file !== null) {
    unlink($file);
}
