"""The official Python `pusher` server SDK, and plain curl, against a reverb-rs server."""

import json
import os
import re
import subprocess
import time
import unittest

import pusher
import pusher.http
import websocket

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXTENSION = os.environ.get("REVERB_RS_EXTENSION", os.path.join(ROOT, "target/release/libreverb_rs.so"))
APP = {"app_id": "123456", "key": "sdk-key", "secret": "sdk-secret"}


def start_server(env=None):
    """Starts tests/python/server.php, with `env` added to its environment, and returns
    (process, port)."""
    process = subprocess.Popen(
        ["php", "-d", f"extension={EXTENSION}", os.path.join(ROOT, "tests/python/server.php")],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    line = process.stdout.readline()
    match = re.search(r":(\d+)$", line.strip())
    if not match:
        process.kill()
        raise RuntimeError(f"server did not start: {line!r}")
    return process, int(match.group(1))


class Socket:
    """A minimal Pusher client over websocket-client."""

    def __init__(self, port):
        self.ws = websocket.create_connection(f"ws://127.0.0.1:{port}/app/{APP['key']}", timeout=5)
        established = self.receive("pusher:connection_established")
        self.socket_id = json.loads(established["data"])["socket_id"]

    def send(self, event, data):
        self.ws.send(json.dumps({"event": event, "data": data}))

    def receive(self, event=None):
        while True:
            message = json.loads(self.ws.recv())
            if event is None or message.get("event") == event:
                return message

    def subscribe(self, channel, user_id=None):
        data = {"channel": channel}
        if user_id is not None:
            signature = pusher.Pusher(**APP).authenticate(channel, self.socket_id, {"user_id": user_id})
            data.update(auth=signature["auth"], channel_data=signature["channel_data"])
        self.send("pusher:subscribe", data)
        self.receive("pusher_internal:subscription_succeeded")

    def close(self):
        self.ws.close()


class PusherSdkTest(unittest.TestCase):
    def setUp(self):
        self.process, self.port = start_server()
        self.addCleanup(self.stop_server)
        self.client = pusher.Pusher(host="127.0.0.1", port=self.port, ssl=False, **APP)

    def stop_server(self):
        self.process.terminate()
        self.process.wait(timeout=10)
        self.process.stdout.close()

    def test_trigger_reaches_subscribers_and_excludes_the_socket_id(self):
        alice, bob = Socket(self.port), Socket(self.port)
        alice.subscribe("orders")
        bob.subscribe("orders")
        self.assertEqual(self.client.trigger(["orders"], "created", {"id": 1}, socket_id=alice.socket_id), {})
        message = bob.receive()
        self.assertEqual(message["event"], "created")
        self.assertEqual(json.loads(message["data"]), {"id": 1})
        self.client.trigger("orders", "second", "x")
        self.assertEqual(alice.receive()["event"], "second", "alice skipped the excluded event")
        alice.close()
        bob.close()

    def test_batch_and_info(self):
        socket = Socket(self.port)
        socket.subscribe("presence-room", user_id="7")
        answer = self.client.trigger_batch([
            {"channel": "presence-room", "name": "a", "data": "1", "info": "user_count"},
            {"channel": "news", "name": "b", "data": "2"},
        ])
        self.assertEqual(answer, {"batch": [{"user_count": 1}, {}]})
        self.assertEqual(socket.receive()["event"], "a")
        socket.close()

    def test_channel_queries_and_users(self):
        one, two = Socket(self.port), Socket(self.port)
        one.subscribe("presence-room", user_id="1")
        two.subscribe("presence-room", user_id="1")
        one.subscribe("news")
        self.assertEqual(
            self.client.channels_info(prefix_filter="presence-", attributes=["user_count"]),
            {"channels": {"presence-room": {"user_count": 1}}},
        )
        self.assertEqual(self.client.channel_info("news", ["subscription_count"]),
                         {"occupied": True, "subscription_count": 1})
        self.assertEqual(self.client.channel_info("empty"), {"occupied": False})
        self.assertEqual(self.client.users_info("presence-room"), {"users": [{"id": "1"}]})
        one.close()
        two.close()

    def test_terminate_and_send_to_user(self):
        socket = Socket(self.port)
        signed = self.client.authenticate_user(socket.socket_id, {"id": "u1"})
        socket.send("pusher:signin", {"auth": signed["auth"], "user_data": signed["user_data"]})
        socket.receive("pusher:signin_success")
        socket.send("pusher:subscribe", {"channel": "#server-to-user-u1"})
        socket.receive("pusher_internal:subscription_succeeded")
        self.client.send_to_user("u1", "notice", {"text": "hi"})
        self.assertEqual(socket.receive()["event"], "notice")
        self.client.terminate_user_connections("u1")
        self.assertEqual(json.loads(socket.receive("pusher:error")["data"])["code"], 4009)

    def test_error_cases_with_curl(self):
        base = f"http://127.0.0.1:{self.port}"

        def curl(*args):
            result = subprocess.run(["curl", "-s", "-o", "/dev/stdout", "-w", "\n%{http_code}", *args],
                                    capture_output=True, text=True, timeout=10)
            body, status = result.stdout.rsplit("\n", 1)
            return int(status), body

        status, body = curl("-X", "POST", f"{base}/apps/123456/events?auth_key=sdk-key&auth_timestamp=1"
                                          "&auth_version=1.0&auth_signature=00", "-d", "{}")
        self.assertEqual(status, 401)
        self.assertIn("auth_timestamp", json.loads(body)["error"])

        now = str(int(time.time()))
        status, body = curl("-X", "POST", f"{base}/apps/123456/events?auth_key=sdk-key&auth_timestamp={now}"
                                          "&auth_version=1.0&body_md5=99914b932bd37a50b983c5e7c90ae93b"
                                          "&auth_signature=00", "-d", "{}")
        self.assertEqual(status, 401)
        self.assertEqual(json.loads(body)["error"], "Authentication signature invalid.")

        status, body = curl("-X", "POST", f"{base}/apps/123456/events", "--data-binary", "x" * 20000)
        self.assertEqual(status, 413)
        self.assertIn("max_request_size", json.loads(body)["error"])

        status, body = curl(f"{base}/apps/123456/events")
        self.assertEqual(status, 405)

        status, body = curl("-X", "POST", f"{base}/apps/nope/events", "-d", "{}")
        self.assertEqual(status, 404)
        self.assertIn("nope", json.loads(body)["error"])

        status, body = curl("-H", "Upgrade: websocket", f"{base}/app/sdk-key")
        self.assertEqual(status, 400)

    def test_invalid_payloads_get_422_with_the_field(self):
        for bad, field in [({"name": "e", "channels": ["a"], "data": {"x": 1}}, "data"),
                           ({"name": "e", "data": "x"}, "channels")]:
            with self.assertRaises(pusher.errors.PusherBadStatus) as raised:
                self.client._pusher_client.http.send_request(pusher.http.Request(
                    self.client._pusher_client, "POST", f"/apps/{APP['app_id']}/events", bad))
            self.assertIn("422", str(raised.exception))
            self.assertIn(field, str(raised.exception))


if __name__ == "__main__":
    unittest.main()
