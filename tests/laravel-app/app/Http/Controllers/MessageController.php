<?php

namespace App\Http\Controllers;

use App\Events\MessagePosted;
use Illuminate\Http\Request;
use Illuminate\Routing\Controller;

/** POST /messages {room, text}: broadcasts to the room, except the sender's socket (X-Socket-ID). */
class MessageController extends Controller
{
    public function __invoke(Request $request)
    {
        $text = trim((string) $request->input('text', ''));
        $room = (string) $request->input('room', 'lobby');

        if ($text === '' || mb_strlen($text) > 1000) {
            return response()->json(['message' => 'The text must be 1 to 1000 characters.'], 422);
        }
        if (! preg_match('/^[A-Za-z0-9_-]{1,40}$/', $room)) {
            return response()->json(['message' => 'Unknown room.'], 422);
        }

        $user = $request->user();
        $event = new MessagePosted($room, $text, ['id' => $user->id, 'name' => $user->name]);
        broadcast($event)->toOthers();

        return response()->json(['message' => $event->broadcastWith()], 201);
    }
}
