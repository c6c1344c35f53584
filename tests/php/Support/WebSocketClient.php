<?php

declare(strict_types=1);

namespace ReverbRs\Tests\Support;

use RuntimeException;

/**
 * A minimal RFC 6455 client for tests: connects, sends masked text frames, reads text and
 * close frames. Enough to talk the Pusher protocol to a local server.
 */
final class WebSocketClient
{
    /** @var resource */
    private $stream;

    public function __construct(int $port, string $path, float $timeoutSeconds = 5.0)
    {
        $stream = stream_socket_client("tcp://127.0.0.1:{$port}", $errno, $error, $timeoutSeconds);
        if ($stream === false) {
            throw new RuntimeException("connect failed: {$error}");
        }
        stream_set_timeout($stream, (int) ceil($timeoutSeconds));
        $this->stream = $stream;
        $key = base64_encode(random_bytes(16));
        fwrite($stream, "GET {$path} HTTP/1.1\r\nHost: 127.0.0.1:{$port}\r\nUpgrade: websocket\r\n"
            . "Connection: Upgrade\r\nSec-WebSocket-Key: {$key}\r\nSec-WebSocket-Version: 13\r\n\r\n");
        $head = '';
        while (!str_ends_with($head, "\r\n\r\n")) {
            $byte = fread($stream, 1);
            if ($byte === '' || $byte === false) {
                throw new RuntimeException("handshake failed: {$head}");
            }
            $head .= $byte;
        }
        if (!str_starts_with($head, 'HTTP/1.1 101')) {
            throw new RuntimeException("handshake refused: {$head}");
        }
    }

    /** Sends a Pusher message. */
    public function send(array $message): void
    {
        $payload = json_encode($message, JSON_THROW_ON_ERROR);
        $mask = random_bytes(4);
        $length = strlen($payload);
        $header = chr(0x81);
        if ($length < 126) {
            $header .= chr(0x80 | $length);
        } elseif ($length < 65536) {
            $header .= chr(0x80 | 126) . pack('n', $length);
        } else {
            $header .= chr(0x80 | 127) . pack('J', $length);
        }
        $masked = '';
        for ($i = 0; $i < $length; $i++) {
            $masked .= $payload[$i] ^ $mask[$i % 4];
        }
        fwrite($this->stream, $header . $mask . $masked);
    }

    /**
     * Reads the next text frame as a decoded Pusher message, or the close frame as
     * ['close' => code].
     */
    public function receive(): array
    {
        while (true) {
            [$opcode, $payload] = $this->readFrame();
            if ($opcode === 0x1) {
                return json_decode($payload, true, 512, JSON_THROW_ON_ERROR);
            }
            if ($opcode === 0x8) {
                return ['close' => strlen($payload) >= 2 ? unpack('n', $payload)[1] : null];
            }
        }
    }

    /** Reads messages until one has the event name `$event`. */
    public function receiveEvent(string $event): array
    {
        while (true) {
            $message = $this->receive();
            if (($message['event'] ?? null) === $event || isset($message['close'])) {
                return $message;
            }
        }
    }

    public function close(): void
    {
        fclose($this->stream);
    }

    /** @return array{int, string} */
    private function readFrame(): array
    {
        $head = $this->read(2);
        $opcode = ord($head[0]) & 0x0f;
        $length = ord($head[1]) & 0x7f;
        if ($length === 126) {
            $length = unpack('n', $this->read(2))[1];
        } elseif ($length === 127) {
            $length = unpack('J', $this->read(8))[1];
        }
        return [$opcode, $length > 0 ? $this->read($length) : ''];
    }

    private function read(int $bytes): string
    {
        $data = '';
        while (strlen($data) < $bytes) {
            $chunk = fread($this->stream, $bytes - strlen($data));
            if ($chunk === '' || $chunk === false) {
                throw new RuntimeException('connection closed or timed out while reading');
            }
            $data .= $chunk;
        }
        return $data;
    }
}
