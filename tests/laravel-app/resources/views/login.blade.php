<!DOCTYPE html>
<html lang="en">
<head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Sign in · {{ config('app.name') }}</title>
    <link rel="stylesheet" href="/chat.css">
</head>
<body>
<main class="login">
    <h1>reverb-rs chat</h1>
    <p>A Laravel app broadcasting through reverb-rs. Pick a name to join <strong>#{{ $room }}</strong>.</p>
    <form method="get" action="/login">
        <input type="hidden" name="room" value="{{ $room }}">
        <label for="name">Your name</label>
        <input id="name" name="name" maxlength="40" required autofocus autocomplete="nickname">
        <button type="submit">Join</button>
    </form>
    <p class="hint">Open a second window with another name to chat with yourself.</p>
</main>
</body>
</html>
