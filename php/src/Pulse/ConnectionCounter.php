<?php

declare(strict_types=1);

namespace ReverbRs\Laravel\Pulse;

use ReverbRs\Laravel\Exceptions\InvalidApp;
use RuntimeException;

/**
 * Asks a server's HTTP API how many connections an app has (`GET /apps/{id}/connections`,
 * signed like every Pusher API request), for the Reverb connections recorder: it runs in
 * `pulse:check`, away from the server, as Reverb's does. `ReverbRs\Client` has no such call,
 * and the package requires no Pusher SDK and no HTTP client library.
 */
final class ConnectionCounter
{
    /** Seconds a request may take: `pulse:check` waits for it. */
    private const TIMEOUT = 5;

    /**
     * The connections of each app an app provider lists, by app id. Entries the provider could
     * not read and disabled apps are left out: no server serves them. An app without `options`
     * of its own (a `reverb_apps` row, say) is asked of the server at `$server`, the options of
     * the `reverb` broadcast connection, where the application publishes.
     *
     * @param iterable<array<string, mixed>|InvalidApp> $apps
     * @param array<string, mixed> $server
     * @return array<string, int>
     */
    public function countEach(iterable $apps, array $server): array
    {
        $counts = [];
        foreach ($apps as $app) {
            if (!is_array($app) || ($app['enabled'] ?? true) === false) {
                continue;
            }
            $app['options'] = (array) ($app['options'] ?? []) + $server;
            $counts[(string) $app['app_id']] = $this->count($app);
        }

        return $counts;
    }

    /**
     * The connections of an app entry, asked of the server at the app's `options` (host,
     * port, scheme or useTLS, path), as Reverb's recorder asks.
     *
     * @param array<string, mixed> $app
     */
    public function count(array $app): int
    {
        $options = (array) ($app['options'] ?? []);
        $scheme = $options['scheme'] ?? (($options['useTLS'] ?? false) ? 'https' : 'http');
        $host = ($options['host'] ?? '') ?: '127.0.0.1';
        $port = (int) (($options['port'] ?? '') ?: ($scheme === 'https' ? 443 : 80));
        $path = '/apps/' . rawurlencode((string) $app['app_id']) . '/connections';
        $query = [
            'auth_key' => (string) $app['key'],
            'auth_timestamp' => (string) time(),
            'auth_version' => '1.0',
        ];
        $query['auth_signature'] = hash_hmac(
            'sha256',
            "GET\n{$path}\n" . urldecode(http_build_query($query)),
            (string) $app['secret']
        );
        $url = sprintf('%s://%s:%d%s%s', $scheme, $host, $port, rtrim((string) ($options['path'] ?? ''), '/'), $path);

        $stream = @fopen($url . '?' . http_build_query($query), 'r', false, stream_context_create([
            'http' => [
                'method' => 'GET',
                'header' => "Accept: application/json\r\n",
                'timeout' => self::TIMEOUT,
                'ignore_errors' => true,
            ],
        ]));
        if ($stream === false) {
            throw new RuntimeException("GET {$url} failed: " . (error_get_last()['message'] ?? 'no response'));
        }
        try {
            $headers = stream_get_meta_data($stream)['wrapper_data'] ?? [];
            $body = (string) stream_get_contents($stream);
        } finally {
            fclose($stream);
        }
        $status = preg_match('{^HTTP/\S+ (\d{3})}', (string) ($headers[0] ?? ''), $match) ? (int) $match[1] : 0;
        $answer = json_decode($body, true);
        if ($status !== 200 || !is_int($answer['connections'] ?? null)) {
            throw new RuntimeException("GET {$url} answered {$status}: {$body}");
        }

        return $answer['connections'];
    }
}
