<?php

declare(strict_types=1);

namespace ReverbRs\Laravel\Broadcasting;

use Illuminate\Broadcasting\Broadcasters\Broadcaster;
use Illuminate\Broadcasting\Broadcasters\UsePusherChannelConventions;
use Illuminate\Broadcasting\BroadcastException;
use Illuminate\Contracts\Container\Container;
use Illuminate\Support\Arr;
use ReverbRs\ApiException;
use ReverbRs\Client;
use ReverbRs\Server;
use ReverbRs\ServerException;
use Symfony\Component\HttpKernel\Exception\AccessDeniedHttpException;

/**
 * The `reverb` broadcast driver. It publishes straight into the engine when a reverb-rs
 * server runs in this process (listeners inside `reverb:start`), and otherwise through
 * ReverbRs\Client to `options.host/port/scheme/path` over a kept-alive connection.
 *
 * Channel authorization and user authentication answer exactly what Laravel's
 * PusherBroadcaster answers, so laravel-echo and pusher-js work unchanged; no Pusher SDK
 * and no Guzzle are needed.
 */
final class ReverbBroadcaster extends Broadcaster
{
    use UsePusherChannelConventions;

    /** Laravel's PusherBroadcaster sends at most this many channels per request. */
    private const CHANNELS_PER_REQUEST = 100;

    private ?Client $client = null;

    /**
     * Nothing is checked here: Laravel builds the broadcaster while booting (for
     * routes/channels.php), and a missing extension or key must not break every request and
     * command. Each check runs where its absence would matter.
     *
     * @param array<string, mixed> $config the `broadcasting.connections.reverb` block
     */
    public function __construct(private Container $app, private array $config)
    {
    }

    /**
     * Authenticates the request for a private or presence channel.
     *
     * @param \Illuminate\Http\Request $request
     */
    public function auth($request)
    {
        $channelName = $this->normalizeChannelName($request->channel_name);

        if (
            empty($request->channel_name)
            || ($this->isGuardedChannel($request->channel_name) && !$this->retrieveUser($request, $channelName))
        ) {
            throw new AccessDeniedHttpException();
        }

        return parent::verifyUserCanAccessChannel($request, $channelName);
    }

    /**
     * The auth response pusher-js expects: `auth` for private channels (plus `shared_secret`
     * for private-encrypted ones), `auth` and `channel_data` for presence channels.
     *
     * @param \Illuminate\Http\Request $request
     */
    public function validAuthenticationResponse($request, $result)
    {
        $channel = (string) $request->channel_name;
        $socketId = (string) $request->socket_id;

        if (str_starts_with($channel, 'private')) {
            $response = ['auth' => $this->sign("{$socketId}:{$channel}")];
            if (str_starts_with($channel, 'private-encrypted-')) {
                $response['shared_secret'] = base64_encode($this->channelKey($channel));
            }
            return $this->respond($request, $response);
        }

        $user = $this->retrieveUser($request, $this->normalizeChannelName($channel));
        $userId = method_exists($user, 'getAuthIdentifierForBroadcasting')
            ? $user->getAuthIdentifierForBroadcasting()
            : $user->getAuthIdentifier();
        $member = ['user_id' => (string) $userId];
        if ($result) {
            $member['user_info'] = $result;
        }
        $channelData = json_encode($member);

        return $this->respond($request, [
            'auth' => $this->sign("{$socketId}:{$channel}:{$channelData}"),
            'channel_data' => $channelData,
        ]);
    }

    /**
     * User authentication (`/broadcasting/user-auth`, Laravel 9+): signs the user data
     * returned by the `Broadcast::resolveAuthenticatedUserUsing()` callback.
     *
     * @param \Illuminate\Http\Request $request
     * @return array{auth: string, user_data: string}|null
     */
    public function resolveAuthenticatedUser($request)
    {
        $user = method_exists(Broadcaster::class, 'resolveAuthenticatedUser')
            ? parent::resolveAuthenticatedUser($request)
            : null;
        if (!$user) {
            return null;
        }
        $userData = json_encode($user);

        return [
            'auth' => $this->sign("{$request->socket_id}::user::{$userData}"),
            'user_data' => $userData,
        ];
    }

    /**
     * Publishes an event; `toOthers()` arrives as the payload's `socket`.
     *
     * @param array<int, mixed> $channels
     * @param string $event
     * @param array<string, mixed> $payload
     */
    public function broadcast(array $channels, $event, array $payload = [])
    {
        if (!extension_loaded('reverb_rs')) {
            throw new BroadcastException(
                'The reverb broadcast driver needs the reverb_rs PHP extension in this PHP process '
                . '(CLI and FPM): install it and enable it with an ini file (extension=reverb_rs.so).'
            );
        }
        $this->requireCredentials();
        $socketId = Arr::pull($payload, 'socket');
        $channels = $this->formatChannels($channels);
        $data = $this->encode($channels, $payload);

        try {
            $server = $this->runningServer();
            foreach (array_chunk($channels, self::CHANNELS_PER_REQUEST) as $chunk) {
                if ($server !== null) {
                    $server->publish((string) $this->config['app_id'], $chunk, $event, $data, $socketId);
                } else {
                    $this->client()->trigger($chunk, $event, $data, $socketId);
                }
            }
        } catch (ApiException | ServerException $e) {
            throw new BroadcastException(sprintf('Pusher error: %s.', $e->getMessage()));
        }
    }

    private function requireCredentials(): void
    {
        foreach (['key', 'secret', 'app_id'] as $required) {
            if (empty($this->config[$required])) {
                throw new BroadcastException(
                    "The reverb broadcasting connection has no {$required}: set REVERB_APP_KEY, "
                    . 'REVERB_APP_SECRET and REVERB_APP_ID in .env (php artisan reverb:install writes them).'
                );
            }
        }
    }

    /** The server running in this process, when it serves this connection's app. */
    private function runningServer(): ?Server
    {
        if (!$this->app->bound(Server::class)) {
            return null;
        }
        $server = $this->app->make(Server::class);

        return $server->isRunning() && array_key_exists((string) $this->config['app_id'], $server->stats())
            ? $server
            : null;
    }

    private function client(): Client
    {
        $options = $this->config['options'] ?? [];
        $scheme = $options['scheme'] ?? (($options['useTLS'] ?? false) ? 'https' : 'http');

        return $this->client ??= new Client([
            'key' => (string) $this->config['key'],
            'secret' => (string) $this->config['secret'],
            'app_id' => (string) $this->config['app_id'],
            'host' => $options['host'] ?? '127.0.0.1',
            'port' => $options['port'] ?? ($scheme === 'https' ? 443 : 80),
            'scheme' => $scheme,
            'path' => $options['path'] ?? '',
            'timeout' => $this->config['client_options']['timeout'] ?? 30,
            'verify' => $this->config['client_options']['verify'] ?? true,
        ]);
    }

    /**
     * The event data as Pusher expects it: JSON, encrypted end to end for a single
     * `private-encrypted-` channel, as the Pusher SDK does.
     *
     * @param array<int, string> $channels
     * @param array<string, mixed> $payload
     */
    private function encode(array $channels, array $payload): string
    {
        $data = json_encode($payload);
        $encrypted = array_filter($channels, fn (string $c) => str_starts_with($c, 'private-encrypted-'));
        if ($encrypted === []) {
            return $data;
        }
        if (count($channels) > 1) {
            throw new BroadcastException(
                'Pusher error: cannot broadcast to multiple channels when one of them is encrypted.'
            );
        }
        $nonce = random_bytes(SODIUM_CRYPTO_SECRETBOX_NONCEBYTES);
        $ciphertext = sodium_crypto_secretbox($data, $nonce, $this->channelKey($channels[0]));

        return json_encode(['nonce' => base64_encode($nonce), 'ciphertext' => base64_encode($ciphertext)]);
    }

    /** The per-channel key of an encrypted channel, derived from the master key. */
    private function channelKey(string $channel): string
    {
        $masterKey = base64_decode((string) ($this->config['encryption_master_key_base64'] ?? ''), true);
        if (!$masterKey || strlen($masterKey) !== 32) {
            throw new BroadcastException(
                'Encrypted channels need encryption_master_key_base64 (32 bytes, base64) '
                . 'in the reverb broadcasting connection.'
            );
        }

        return hash('sha256', $channel . $masterKey, true);
    }

    private function sign(string $message): string
    {
        $this->requireCredentials();
        return $this->config['key'] . ':' . hash_hmac('sha256', $message, (string) $this->config['secret']);
    }

    /**
     * @param \Illuminate\Http\Request $request
     * @param array<string, string> $response
     */
    private function respond($request, array $response)
    {
        if (($this->config['jsonp'] ?? false) && $request->input('callback')) {
            return response()->json($response)->withCallback($request->callback);
        }

        return $response;
    }
}
