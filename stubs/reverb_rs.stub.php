<?php

// Stubs for reverb_rs

namespace ReverbRs {
    /**
     * Thrown when a `ReverbRs\Client` request fails; `getCode()` is the HTTP status (0 when no
     * response arrived) and the message carries the server's body.
     */
    class ApiException extends \Exception {
        public function __construct() {}
    }

    /**
     * Publishes to, and queries, any Pusher-compatible server over keep-alive HTTP.
     */
    class Client {
        /**
         * Options: `key`, `secret`, `app_id` (required), `host` (127.0.0.1), `port` (80/443),
         * `scheme` (`http`|`https`), `path` (a prefix before `/apps`), `timeout` (5.0 s), and
         * `verify` for https (true: Mozilla's roots; a path: that CA file; false: no checks).
         * Throws `ReverbRs\ConfigException` naming a bad option.
         *
         * @param array $options
         */
        public function __construct(array $options) {}

        /**
         * One channel: `occupied` and the attributes asked for in `$info`.
         *
         * @param string $name
         * @param array $info
         * @return array
         */
        public function channel(string $name, array $info = []): array {}

        /**
         * The occupied channels, optionally those starting with `$prefix`.
         *
         * @param string|null $prefix
         * @param array $info
         * @return array
         */
        public function channels(?string $prefix = null, array $info = []): array {}

        /**
         * Sends an event to every socket signed in as a user (`#server-to-user-{id}`).
         *
         * @param string $userId
         * @param string $event
         * @param string $data
         * @return void
         */
        public function sendToUser(string $userId, string $event, string $data): void {}

        /**
         * Disconnects every socket of a user.
         *
         * @param string $userId
         * @return void
         */
        public function terminateUserConnections(string $userId): void {}

        /**
         * Publishes `$data` as `$event` on one channel or several; returns the server's answer
         * (`[]`, or `['channels' => [...]]` when `$info` asks for attributes).
         *
         * @param mixed $channels
         * @param string $event
         * @param string $data
         * @param string|null $socketId
         * @param array $info
         * @return array
         */
        public function trigger(mixed $channels, string $event, string $data, ?string $socketId = null, array $info = []): array {}

        /**
         * Publishes several events: each `['channel' => .., 'name' => .., 'data' => ..,
         * 'socket_id' => ?, 'info' => ?]`.
         *
         * @param array $events
         * @return array
         */
        public function triggerBatch(array $events): array {}

        /**
         * The users of a presence channel: `['users' => [['id' => ..], ..]]`.
         *
         * @param string $channel
         * @return array
         */
        public function users(string $channel): array {}
    }

    /**
     * Thrown when the config array has a wrong type or an impossible value; the message names
     * the key (`apps.apps.0.max_message_size must be an integer`).
     */
    class ConfigException extends \Exception {
        public function __construct() {}
    }

    /**
     * A Pusher-protocol WebSocket server running on background threads of this PHP process.
     */
    class Server {
        /**
         * Validates `$config`, shaped like Laravel's `config('reverb')`. Throws
         * `ReverbRs\ConfigException` naming the first bad key.
         *
         * @param array $config
         */
        public function __construct(array $config) {}

        /**
         * Answers the `app_lookup` event numbered `$lookup` with the app entry for the key or
         * id it asked about, or null when there is none. Returns null when the answer was
         * taken (a late one too: the next client finds the app), else why not (an entry with a
         * bad value, named by key).
         *
         * @param int $lookup
         * @param array|null $app
         * @return string|null
         */
        public function answerAppLookup(int $lookup, ?array $app = null): ?string {}

        /**
         * One channel: `occupied`, `subscription_count`, `user_count` (presence) and `cache`
         * (`['frame' => last event, 'ttl_seconds' => n]`, cache channels only).
         *
         * @param string $appId
         * @param string $name
         * @return array
         */
        public function channel(string $appId, string $name): array {}

        /**
         * The occupied channels of an app, optionally only those starting with `$prefix`:
         * `[name => ['subscription_count' => n, 'user_count' => n (presence only)]]`.
         *
         * @param string $appId
         * @param string|null $prefix
         * @return array
         */
        public function channels(string $appId, ?string $prefix = null): array {}

        /**
         * The engine events since the last drain, oldest first, each an array with a `type`.
         *
         * @return array
         */
        public function drain(): array {}

        /**
         * How many engine events were dropped because nobody drained them in time.
         *
         * @return int
         */
        public function droppedEvents(): int {}

        /**
         * A file descriptor that becomes readable when events are ready, for `stream_select`
         * loops (open it with `fopen('php://fd/N', 'r')`).
         *
         * @return int
         */
        public function eventFd(): int {}

        /**
         * Whether the server is serving.
         *
         * @return bool
         */
        public function isRunning(): bool {}

        /**
         * The port the server listens on.
         *
         * @return int
         */
        public function port(): int {}

        /**
         * Sends an event to channels of an app, skipping `$exceptSocketId`. Returns at once.
         *
         * @param string $appId
         * @param array $channels
         * @param string $event
         * @param string $data
         * @param string|null $exceptSocketId
         * @return void
         */
        public function publish(string $appId, array $channels, string $event, string $data, ?string $exceptSocketId = null): void {}

        /**
         * Serves exactly the apps of `$apps` (entries shaped like `config('reverb.apps.apps')`)
         * from now on, without a restart: new apps start, changed apps take their new settings
         * (a rotated secret is valid at once; open sockets go on), apps left out close their
         * sockets with 4001 and apps with `'enabled' => false` with 4003. Returns the refused
         * entries as `[['app_id' => ?string, 'key' => 'apps.apps.N.field', 'message' => ...]]`;
         * the app each names keeps its running version.
         *
         * @param array $apps
         * @return array
         */
        public function setApps(array $apps): array {}

        /**
         * Binds host:port (port 0 picks a free one) and starts serving in the background.
         *
         * @return void
         */
        public function start(): void {}

        /**
         * Counters per app id: connections, channels, messages_in, messages_out, webhooks (sent,
         * failed, retried, dropped) and, with scaling on, scaling (node, redis, nodes, messages).
         *
         * @return array
         */
        public function stats(): array {}

        /**
         * Stops the server within `$graceSeconds`. From the start `/up` answers 503 and new
         * sockets are refused, while the open ones are still served until they are gone or only
         * the last half of the grace (at most its last second) is left; then every client is told
         * to reconnect (close code 4200). Calling it again does nothing.
         *
         * @param float $graceSeconds
         * @return void
         */
        public function stop(float $graceSeconds = 3.0): void {}

        /**
         * Closes every socket of a user (signed in, or joined to a presence channel as them).
         * Returns how many sockets were closed.
         *
         * @param string $appId
         * @param string $userId
         * @return int
         */
        public function terminateUser(string $appId, string $userId): int {}

        /**
         * The user ids on a presence channel (`[]` when nobody is subscribed).
         *
         * @param string $appId
         * @param string $channel
         * @return array
         */
        public function users(string $appId, string $channel): array {}

        /**
         * Blocks until engine events are ready (1), the timeout passes (0), or a signal
         * interrupts the wait (-1, after which PHP runs its signal handlers).
         *
         * @param int $timeoutMs
         * @return int
         */
        public function wait(int $timeoutMs): int {}
    }

    /**
     * Thrown when the server cannot do what was asked: bind failures with the OS reason, calls
     * before `start()`, unknown app ids, use from a forked child.
     */
    class ServerException extends \Exception {
        public function __construct() {}
    }
}
