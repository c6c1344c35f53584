<?php

use Illuminate\Support\Facades\Broadcast;

// private-App.Models.User.{id}: a user's own events, model events and notifications.
Broadcast::channel('App.Models.User.{id}', function ($user, $id) {
    return (int) $user->id === (int) $id;
});

// private-chat.{room}: any signed-in user may listen.
Broadcast::channel('chat.{room}', function ($user, $room) {
    return preg_match('/^[A-Za-z0-9_-]{1,40}$/', $room) === 1;
});

// presence-room.{id}: members are listed by id and name.
Broadcast::channel('room.{id}', function ($user, $id) {
    return ['id' => $user->id, 'name' => $user->name];
});
