<?php

namespace App\Models;

use Illuminate\Database\Eloquent\BroadcastsEvents;
use Illuminate\Database\Eloquent\Model;
use Illuminate\Database\Eloquent\Relations\BelongsTo;

/** A post that broadcasts PostCreated, PostUpdated, ... to its author's private channel. */
class Post extends Model
{
    use BroadcastsEvents;

    protected $fillable = ['user_id', 'title'];

    public function user(): BelongsTo
    {
        return $this->belongsTo(User::class);
    }

    public function broadcastOn(string $event): array
    {
        return [$this->user];
    }
}
