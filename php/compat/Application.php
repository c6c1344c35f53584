<?php

declare(strict_types=1);

namespace Laravel\Reverb;

/**
 * laravel/reverb's app value object, with its constructor and getters, so that a provider
 * written for Reverb still builds its apps where reverb-rs replaces it
 * (ReverbProviderAdapter turns them into app entries).
 */
class Application
{
    /** The app's settings, in the order of Reverb's constructor. */
    public function __construct(
        protected string $id,
        protected string $key,
        protected string $secret,
        protected int $pingInterval,
        protected int $activityTimeout,
        protected array $allowedOrigins,
        protected int $maxMessageSize,
        protected ?int $maxConnections = null,
        protected string $acceptClientEventsFrom = 'members',
        protected ?array $rateLimiting = null,
        protected array $options = [],
    ) {
    }

    /** The app id. */
    public function id(): string
    {
        return $this->id;
    }

    /** The public key clients connect with. */
    public function key(): string
    {
        return $this->key;
    }

    /** The secret that signs channel auth and HTTP API requests. */
    public function secret(): string
    {
        return $this->secret;
    }

    /**
     * The origins allowed to connect.
     *
     * @return array<int, string>
     */
    public function allowedOrigins(): array
    {
        return $this->allowedOrigins;
    }

    /** Seconds of silence before a socket is pinged. */
    public function pingInterval(): int
    {
        return $this->pingInterval;
    }

    /** Seconds advertised to clients as the activity timeout. */
    public function activityTimeout(): int
    {
        return $this->activityTimeout;
    }

    /** The sockets the app may hold, null for no limit. */
    public function maxConnections(): ?int
    {
        return $this->maxConnections;
    }

    /** Whether the app limits its sockets. */
    public function hasMaxConnectionLimit(): bool
    {
        return $this->maxConnections !== null;
    }

    /** The largest message a client may send, in bytes. */
    public function maxMessageSize(): int
    {
        return $this->maxMessageSize;
    }

    /** Who may send client events: "all", "members" or "none". */
    public function acceptClientEventsFrom(): string
    {
        return $this->acceptClientEventsFrom;
    }

    /** The rate limiting settings, null when there are none. */
    public function rateLimiting(): ?array
    {
        return $this->rateLimiting;
    }

    /** Whether the app limits the rate of messages. */
    public function usesRateLimiting(): bool
    {
        return ($this->rateLimiting['enabled'] ?? false) === true;
    }

    /** The app's options (host, port, scheme of the server it publishes to). */
    public function options(): ?array
    {
        return $this->options;
    }

    /**
     * The app as Reverb's toArray() has it (without the limits; ReverbProviderAdapter reads the
     * getters instead).
     *
     * @return array<string, mixed>
     */
    public function toArray(): array
    {
        return [
            'app_id' => $this->id,
            'key' => $this->key,
            'secret' => $this->secret,
            'ping_interval' => $this->pingInterval,
            'activity_timeout' => $this->activityTimeout,
            'allowed_origins' => $this->allowedOrigins,
            'max_message_size' => $this->maxMessageSize,
            'options' => $this->options,
        ];
    }
}
