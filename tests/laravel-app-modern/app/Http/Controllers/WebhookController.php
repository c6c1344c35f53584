<?php

namespace App\Http\Controllers;

use Illuminate\Http\Request;
use Pusher\Pusher;
use Pusher\PusherException;

/** Pusher webhooks from reverb-rs, checked with the Pusher SDK as an app would, kept for the tests. */
class WebhookController extends Controller
{
    /**
     * POST /pusher/webhooks: 401 unless signed with the app's secret; otherwise each event
     * becomes a JSON line of storage/app/webhooks.jsonl.
     */
    public function receive(Request $request)
    {
        $reverb = config('broadcasting.connections.reverb');
        $pusher = new Pusher($reverb['key'], $reverb['secret'], $reverb['app_id']);
        try {
            $webhook = $pusher->webhook([
                'X-Pusher-Key' => (string) $request->header('X-Pusher-Key'),
                'X-Pusher-Signature' => (string) $request->header('X-Pusher-Signature'),
            ], $request->getContent());
        } catch (PusherException $e) {
            return response()->json(['message' => $e->getMessage()], 401);
        }

        $lines = array_map(fn ($event) => json_encode($event) . "\n", $webhook->get_events());
        file_put_contents(storage_path('app/webhooks.jsonl'), implode('', $lines), FILE_APPEND | LOCK_EX);

        return response()->json(['received' => count($lines)]);
    }

    /** GET /pusher/webhooks: the events received so far, oldest first. */
    public function index()
    {
        return response()->json(self::read(storage_path('app/webhooks.jsonl')));
    }

    /** GET /pusher/webhook-events: the Laravel webhook events RecordWebhookEvent heard, oldest first. */
    public function events()
    {
        return response()->json(self::read(storage_path('app/webhook-events.jsonl')));
    }

    /** The JSON lines of a file, decoded; none when it does not exist yet. */
    private static function read(string $path): array
    {
        $lines = is_file($path) ? file($path, FILE_IGNORE_NEW_LINES | FILE_SKIP_EMPTY_LINES) : [];

        return array_map(fn ($line) => json_decode($line, true), $lines);
    }
}
