// Debian's nginx, configured with the server block from docs/deployment.md, in front of a
// reverb-rs server: pusher-js and the HTTP API both go through it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { root, startPhp, connect, nextEvent, signedEventsRequest } from './support.mjs';
import { freePort, waitUntil } from './laravel-support.mjs';

const nginx = '/usr/sbin/nginx';

/** The nginx blocks documented in docs/deployment.md, pointed at `upstream` and `listen`. */
function documentedConfig(upstreamPort, listenPort, dir) {
  const docs = readFileSync(path.join(root, 'docs/deployment.md'), 'utf8');
  const block = docs.match(/```nginx\n([\s\S]*?)```/)[1];
  const site = block
    .replace('server 127.0.0.1:8080;', `server 127.0.0.1:${upstreamPort};`)
    .replace('listen 80;', `listen 127.0.0.1:${listenPort};`);
  assert.notEqual(site, block, 'the documented config names 127.0.0.1:8080 and listen 80');
  const temp = (name) => { mkdirSync(path.join(dir, name), { recursive: true }); return path.join(dir, name); };
  return `daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log;
events {}
http {
    access_log off;
    client_body_temp_path ${temp('body')};
    proxy_temp_path ${temp('proxy')};
    fastcgi_temp_path ${temp('fastcgi')};
    uwsgi_temp_path ${temp('uwsgi')};
    scgi_temp_path ${temp('scgi')};
${site}
}
`;
}

test('pusher-js and the HTTP API work through nginx with the documented config', { skip: !existsSync(nginx) && 'nginx is not installed' }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'reverb-rs-nginx-'));
  const server = await startPhp('tests/e2e/fixtures/echo-server.php');
  const listenPort = await freePort();
  writeFileSync(path.join(dir, 'nginx.conf'), documentedConfig(server.port, listenPort, dir));
  const proxy = spawn(nginx, ['-p', dir, '-c', path.join(dir, 'nginx.conf')], { stdio: 'ignore' });
  let pusher;
  try {
    await waitUntil(async () => {
      try { return (await fetch(`http://127.0.0.1:${listenPort}/up`)).ok; } catch { return false; }
    }, 10_000, 'nginx to answer');
    const up = await fetch(`http://127.0.0.1:${listenPort}/up`);
    assert.deepEqual(await up.json(), { health: 'OK' });

    pusher = connect(listenPort, 'test-key');
    const channel = pusher.subscribe('news');
    const greeting = await nextEvent(channel, 'greeting');
    assert.equal(greeting.to, 'all');

    const body = JSON.stringify({ name: 'via-nginx', data: '{"ok":true}', channels: ['news'] });
    const published = nextEvent(channel, 'via-nginx');
    const response = await fetch(`http://127.0.0.1:${listenPort}${signedEventsRequest('test', 'test-key', 'test-secret', body)}`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body,
    });
    assert.equal(response.status, 200, await response.clone().text());
    assert.deepEqual(await published, { ok: true });
  } finally {
    pusher?.disconnect();
    proxy.kill('SIGTERM');
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
