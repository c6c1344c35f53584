<?php

use App\Http\Controllers\ChatController;
use App\Http\Controllers\MessageController;
use App\Http\Middleware\Authenticate;
use Illuminate\Support\Facades\Route;

Route::get('/', [ChatController::class, 'show']);
Route::get('/login', [ChatController::class, 'login']);
Route::get('/logout', [ChatController::class, 'logout']);
Route::post('/messages', MessageController::class)->middleware(Authenticate::class);
Route::get('/vendor/{file}', [ChatController::class, 'asset'])->where('file', 'pusher\.js|echo\.js');
