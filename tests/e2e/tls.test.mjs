// pusher-js over wss:// against a server with a self-signed certificate made by openssl.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startPhp, connect, nextEvent } from './support.mjs';

// The certificate is self-signed; this test process trusts it by not verifying.
process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';

test('pusher-js subscribes and receives events over wss', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'reverb-rs-wss-'));
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
    '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'),
  ], { stdio: 'ignore' });
  const server = await startPhp('tests/e2e/fixtures/tls-server.php', {
    env: { TLS_CERT: path.join(dir, 'cert.pem'), TLS_KEY: path.join(dir, 'key.pem') },
    ready: /wss:\/\/[^:]+:(\d+)/,
  });
  const pusher = connect(server.port, 'test-key', { forceTLS: true, wssPort: server.port, enabledTransports: ['ws', 'wss'] });
  try {
    const greeting = await nextEvent(pusher.subscribe('news'), 'greeting');
    assert.deepEqual(greeting, { over: 'tls' });
  } finally {
    pusher.disconnect();
    assert.equal(await server.stop(), 0);
    rmSync(dir, { recursive: true, force: true });
  }
});
