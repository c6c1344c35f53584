<?php

declare(strict_types=1);

namespace ReverbRs\Tests;

use ReverbRs\ApiException;
use ReverbRs\Client;
use ReverbRs\ServerException;

/** wss:// and https:// with a self-signed certificate made by the openssl command. */
final class TlsTest extends ServerTestCase
{
    private string $dir;

    protected function setUp(): void
    {
        $this->dir = sys_get_temp_dir() . '/reverb-rs-tls-' . getmypid();
        @mkdir($this->dir);
        exec(sprintf(
            'openssl req -x509 -newkey rsa:2048 -nodes -keyout %1$s/key.pem -out %1$s/cert.pem -days 1 '
            . '-subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -addext basicConstraints=critical,CA:FALSE 2>/dev/null',
            escapeshellarg($this->dir)
        ), $output, $status);
        $this->assertSame(0, $status, 'openssl made a certificate');
    }

    protected function tearDown(): void
    {
        parent::tearDown();
        array_map('unlink', glob("{$this->dir}/*") ?: []);
        @rmdir($this->dir);
    }

    private function tlsServer(): \ReverbRs\Server
    {
        return $this->startServer(self::config([], ['options' => ['tls' => [
            'local_cert' => "{$this->dir}/cert.pem",
            'local_pk' => "{$this->dir}/key.pem",
            'verify_peer' => false,
        ]]]));
    }

    private function client(int $port, array $options): Client
    {
        return new Client($options + [
            'key' => 'key-1', 'secret' => 'secret-1', 'app_id' => 'app-1',
            'host' => 'localhost', 'port' => $port, 'scheme' => 'https',
        ]);
    }

    public function testTheClientPublishesOverHttpsTrustingTheGivenCa(): void
    {
        $server = $this->tlsServer();

        $answer = $this->client($server->port(), ['verify' => "{$this->dir}/cert.pem"])
            ->channels();

        $this->assertSame(['channels' => []], $answer);
    }

    public function testAnUntrustedCertificateIsRefusedUnlessVerificationIsOff(): void
    {
        $server = $this->tlsServer();

        try {
            $this->client($server->port(), [])->channels();
            $this->fail('a self-signed certificate was trusted');
        } catch (ApiException $e) {
            $this->assertSame(0, $e->getCode());
            $this->assertStringContainsStringIgnoringCase('certificate', $e->getMessage());
        }
        $this->assertSame(['channels' => []], $this->client($server->port(), ['verify' => false])->channels());
    }

    public function testAMissingCertificateFileIsAClearStartError(): void
    {
        $server = new \ReverbRs\Server(self::config([], ['options' => ['tls' => ['local_cert' => '/nonexistent.pem']]]));

        $this->expectException(ServerException::class);
        $this->expectExceptionMessage('/nonexistent.pem');
        $server->start();
    }
}
