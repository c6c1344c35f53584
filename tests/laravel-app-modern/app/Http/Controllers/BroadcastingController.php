<?php

namespace App\Http\Controllers;

use App\Events\StatusUpdated;
use App\Models\Post;
use App\Notifications\Greeting;
use Illuminate\Http\Request;
use Illuminate\Support\Facades\Broadcast;
use Illuminate\Support\Facades\Queue;

/** What an app broadcasts besides chat messages: queued events, models, notifications. */
class BroadcastingController extends Controller
{
    /** POST /status {text}: a ShouldBroadcast event, sent by the queue worker. */
    public function status(Request $request)
    {
        StatusUpdated::dispatch($request->user(), (string) $request->input('text'));

        return response()->json(['queued' => Queue::size()], 202);
    }

    /** POST /posts {title}: a model that broadcasts its own events (BroadcastsEvents). */
    public function createPost(Request $request)
    {
        $post = Post::create(['user_id' => $request->user()->id, 'title' => (string) $request->input('title')]);

        return response()->json(['post' => $post], 201);
    }

    /** PATCH /posts/{post} {title} */
    public function updatePost(Request $request, Post $post)
    {
        $post->update(['title' => (string) $request->input('title')]);

        return response()->json(['post' => $post]);
    }

    /** POST /notifications {text}: a notification through the broadcast channel. */
    public function notify(Request $request)
    {
        $request->user()->notify(new Greeting((string) $request->input('text')));

        return response()->json(['queued' => Queue::size()], 202);
    }

    /** GET /pusher/channels?prefix=: the channel list, through the Pusher SDK of the pusher driver. */
    public function channels(Request $request)
    {
        $pusher = Broadcast::connection('pusher')->getPusher();
        $prefix = (string) $request->query('prefix', '');

        return response()->json($pusher->getChannels(array_filter([
            'filter_by_prefix' => $prefix,
            'info' => str_starts_with($prefix, 'presence-') ? 'user_count' : null,
        ])));
    }

    /** GET /pusher/channels/{name}: one channel's info and, for presence channels, its users. */
    public function channel(string $name)
    {
        $pusher = Broadcast::connection('pusher')->getPusher();
        $presence = str_starts_with($name, 'presence-');

        return response()->json([
            'info' => $pusher->getChannelInfo($name, ['info' => $presence ? 'user_count,subscription_count' : 'subscription_count']),
            'users' => $presence ? $pusher->getPresenceUsers($name)->users : null,
        ]);
    }
}
