<!DOCTYPE html>
<html lang="en">
<head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <meta name="csrf-token" content="{{ csrf_token() }}">
    <title>#{{ $room }} · {{ config('app.name') }}</title>
    <link rel="stylesheet" href="/chat.css">
</head>
<body>
<header>
    <h1>#{{ $room }}</h1>
    <span id="status" class="status" data-state="initialized">connecting…</span>
    <span class="me">{{ $user->name }} · <a href="/logout">leave</a></span>
</header>
<div class="layout">
    <aside>
        <h2>Here now</h2>
        <ul id="members"></ul>
    </aside>
    <section class="chat">
        <ol id="messages"></ol>
        <p id="typing" class="typing" hidden></p>
        <form id="composer" autocomplete="off">
            <input id="message" name="text" maxlength="1000" placeholder="Say something…" required>
            <button type="submit">Send</button>
        </form>
    </section>
</div>
<script>
    window.chat = @json(['user' => $user->toArray(), 'room' => $room, 'echo' => $echo]);
</script>
<script src="/vendor/pusher.js"></script>
<script src="/vendor/echo.js"></script>
<script src="/chat.js"></script>
</body>
</html>
