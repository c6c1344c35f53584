"""Prometheus metrics of a PHP-hosted server, read with the official Python client's parsers
(the Prometheus text format and OpenMetrics) before and after traffic from the Pusher SDK and
WebSocket clients."""

import json
import socket
import unittest
import urllib.error
import urllib.request

import pusher
from prometheus_client.openmetrics.parser import text_string_to_metric_families as openmetrics_families
from prometheus_client.parser import text_string_to_metric_families

import test_pusher_sdk as sdk

OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8"


def free_port():
    """A loopback port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Scrape:
    """One scrape's metric families by name, as a Prometheus client library parsed them."""

    def __init__(self, families):
        self.families = {family.name: family for family in families}

    def type(self, name):
        """The type of the family `name`."""
        return self.families[name].type

    def value(self, family, sample=None, **labels):
        """The one sample named `sample` (the family's name by default) with `labels`."""
        found = [s.value for s in self.families[family].samples
                 if s.name == (sample or family) and all(s.labels.get(k) == v for k, v in labels.items())]
        if len(found) != 1:
            raise AssertionError(f"{sample or family}{labels}: expected one sample, got {found}")
        return found[0]


class MetricsTest(unittest.TestCase):
    def setUp(self):
        self.metrics_port = free_port()
        self.process, self.port = sdk.start_server({"METRICS_PORT": str(self.metrics_port)})
        self.addCleanup(self.stop_server)
        self.client = pusher.Pusher(host="127.0.0.1", port=self.port, ssl=False, **sdk.APP)

    def stop_server(self):
        self.process.terminate()
        self.process.wait(timeout=10)
        self.process.stdout.close()

    def get(self, accept):
        """`GET /metrics` with `accept`: the media type and the body."""
        request = urllib.request.Request(f"http://127.0.0.1:{self.metrics_port}/metrics",
                                         headers={"Accept": accept})
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.headers["Content-Type"], response.read().decode()

    def scrape(self):
        """The metrics in the Prometheus text format, parsed."""
        media_type, text = self.get("text/plain;version=0.0.4")
        self.assertEqual(media_type, "text/plain; version=0.0.4; charset=utf-8")
        return Scrape(text_string_to_metric_families(text))

    def test_the_families_parse_and_move_with_sdk_publishes_and_sockets(self):
        before = self.scrape()
        app = {"app_id": sdk.APP["app_id"]}
        for name, kind in [("reverb_connections", "gauge"), ("reverb_connections_opened", "counter"),
                           ("reverb_connections_closed", "counter"), ("reverb_channels", "gauge"),
                           ("reverb_presence_members", "gauge"), ("reverb_messages_received", "counter"),
                           ("reverb_messages_sent", "counter"), ("reverb_bytes_received", "counter"),
                           ("reverb_bytes_sent", "counter"), ("reverb_slow_consumers_closed", "counter"),
                           ("reverb_events_dropped", "counter"), ("reverb_webhook_events_sent", "counter"),
                           ("reverb_webhook_requests_failed", "counter"),
                           ("reverb_connections_refused", "counter"),
                           ("reverb_unknown_app_connections", "counter")]:
            self.assertEqual(before.type(name), kind, name)
        self.assertEqual(before.value("reverb_connections", **app), 0)
        self.assertEqual(before.value("reverb_messages_sent", "reverb_messages_sent_total", **app), 0)

        alice, bob, carol = sdk.Socket(self.port), sdk.Socket(self.port), sdk.Socket(self.port)
        alice.subscribe("orders")
        bob.subscribe("orders")
        carol.subscribe("presence-room", user_id="7")
        for number in range(3):
            self.client.trigger("orders", "created", {"id": number})
            self.assertEqual(alice.receive()["event"], "created")
            self.assertEqual(bob.receive()["event"], "created")
        self.assertEqual(self.client.channel_info("orders", ["subscription_count"])["subscription_count"], 2)
        bob.close()
        alice.send("pusher:ping", {})
        alice.receive("pusher:pong")

        after = self.scrape()
        self.assertEqual(after.value("reverb_channels", type="public", **app), 1)
        self.assertEqual(after.value("reverb_channels", type="presence", **app), 1)
        self.assertEqual(after.value("reverb_presence_members", **app), 1)
        sent = after.value("reverb_messages_sent", "reverb_messages_sent_total", **app)
        self.assertGreaterEqual(sent, 6 + 3, "six deliveries, three connection_established")
        received = after.value("reverb_messages_received", "reverb_messages_received_total", **app)
        self.assertGreaterEqual(received, 4, "three subscriptions and a ping")
        self.assertGreater(after.value("reverb_bytes_sent", "reverb_bytes_sent_total", **app), sent * 10)
        self.assertGreater(after.value("reverb_bytes_received", "reverb_bytes_received_total", **app), 0)
        opened = after.value("reverb_connections_opened", "reverb_connections_opened_total", **app)
        self.assertEqual(opened, 3)
        self.assertEqual(after.type("reverb_http_requests"), "counter")
        requests = lambda route: after.value("reverb_http_requests", "reverb_http_requests_total",
                                             route=route, status="200")
        self.assertEqual(requests("events"), 3)
        self.assertEqual(requests("channel"), 1)
        self.assertEqual(after.type("reverb_http_request_duration_seconds"), "histogram")
        duration = "reverb_http_request_duration_seconds"
        self.assertEqual(after.value(duration, f"{duration}_count", route="events"), 3)
        self.assertEqual(after.value(duration, f"{duration}_bucket", route="events", le="+Inf"), 3)
        alice.close()
        carol.close()

    def test_a_scraper_that_asks_for_openmetrics_gets_a_valid_exposition(self):
        socket_ = sdk.Socket(self.port)
        socket_.subscribe("orders")
        self.client.trigger("orders", "created", {"id": 1})
        socket_.receive("created")

        media_type, text = self.get("application/openmetrics-text;version=1.0.0,text/plain;q=0.5")
        self.assertEqual(media_type, OPENMETRICS)
        scrape = Scrape(openmetrics_families(text))
        app = {"app_id": sdk.APP["app_id"]}
        self.assertEqual(scrape.value("reverb_connections", **app), 1)
        sent = scrape.value("reverb_messages_sent", "reverb_messages_sent_total", **app)
        self.assertEqual(sent, 3, "connection_established, subscription_succeeded, the event")
        self.assertEqual(scrape.value("reverb_http_requests", "reverb_http_requests_total",
                                      route="events", status="200"), 1)
        socket_.close()

    def test_the_public_port_does_not_serve_metrics(self):
        with self.assertRaises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=5)
        self.assertEqual(refused.exception.code, 404)
        self.assertEqual(json.loads(refused.exception.read()), {"error": "Not found."})


if __name__ == "__main__":
    unittest.main()
