<?php

use App\Http\Controllers\BroadcastingController;
use App\Http\Controllers\MessageController;
use App\Http\Controllers\SessionController;
use App\Http\Controllers\WebhookController;
use Illuminate\Foundation\Http\Middleware\ValidateCsrfToken;
use Illuminate\Support\Facades\Route;

Route::get('/login', [SessionController::class, 'login']);

Route::middleware('auth')->group(function () {
    Route::post('/messages', MessageController::class);
    Route::post('/status', [BroadcastingController::class, 'status']);
    Route::post('/posts', [BroadcastingController::class, 'createPost']);
    Route::patch('/posts/{post}', [BroadcastingController::class, 'updatePost']);
    Route::post('/notifications', [BroadcastingController::class, 'notify']);
});

Route::get('/pusher/channels', [BroadcastingController::class, 'channels']);
Route::get('/pusher/channels/{name}', [BroadcastingController::class, 'channel']);

// The server posts webhooks without a session, so without a CSRF token: the signature is the check.
Route::post('/pusher/webhooks', [WebhookController::class, 'receive'])
    ->withoutMiddleware(ValidateCsrfToken::class);
Route::get('/pusher/webhooks', [WebhookController::class, 'index']);
Route::get('/pusher/webhook-events', [WebhookController::class, 'events']);
