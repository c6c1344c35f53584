<?php

use Illuminate\Support\Facades\Broadcast;

/*
| Channel authorization, answered by POST /broadcasting/auth (Broadcast::routes()). Callbacks
| only run for signed-in users (GET /login?name=...).
*/

// private-chat.{room}: any signed-in user may listen.
Broadcast::channel('chat.{room}', function ($user, $room) {
    return preg_match('/^[A-Za-z0-9_-]{1,40}$/', $room) === 1;
});

// presence-room.{id}: members are listed by id and name.
Broadcast::channel('room.{id}', function ($user, $id) {
    return ['id' => $user->id, 'name' => $user->name];
});
