// The demo chat: laravel-echo on the presence channel room.{room}, messages sent through
// POST /messages (broadcast to the others by the app), typing shown with whispers.
(() => {
  const { user, room, echo: config } = window.chat;
  const $ = (id) => document.getElementById(id);
  const csrfToken = document.querySelector('meta[name="csrf-token"]').content;

  const echo = new Echo.default({
    broadcaster: 'reverb',
    key: config.key,
    wsHost: location.hostname,
    wsPort: config.port,
    wssPort: config.port,
    forceTLS: config.scheme === 'https',
    enabledTransports: config.scheme === 'https' ? ['wss'] : ['ws'],
    authEndpoint: '/broadcasting/auth', // laravel-echo sends the csrf-token meta tag with it
    Pusher: window.Pusher,
  });
  window.echo = echo;

  const connection = echo.connector.pusher.connection;
  const showState = (state) => {
    $('status').dataset.state = state;
    $('status').textContent = state;
  };
  showState(connection.state);
  connection.bind('state_change', ({ current }) => showState(current));

  // Presence list.
  const members = new Map();
  function renderMembers() {
    const list = $('members');
    list.replaceChildren(...[...members.values()]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((member) => {
        const item = document.createElement('li');
        item.textContent = member.name;
        item.dataset.id = member.id;
        if (member.id === user.id) item.className = 'me';
        return item;
      }));
  }

  // Messages.
  function addLine(className, build) {
    const list = $('messages');
    const item = document.createElement('li');
    item.className = className;
    build(item);
    list.append(item);
    list.scrollTop = list.scrollHeight;
    return item;
  }
  function addMessage(message) {
    if (document.querySelector(`#messages li[data-id="${CSS.escape(message.id)}"]`)) return;
    addLine(message.author.id === user.id ? 'message mine' : 'message', (item) => {
      item.dataset.id = message.id;
      const author = document.createElement('span');
      author.className = 'author';
      author.textContent = message.author.name;
      const text = document.createElement('span');
      text.className = 'text';
      text.textContent = message.text;
      const time = document.createElement('time');
      time.dateTime = message.sent_at;
      time.textContent = new Date(message.sent_at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
      item.append(author, text, time);
    });
    stopTyping(message.author.id);
  }
  const notice = (text) => addLine('system', (item) => { item.textContent = text; });

  // Typing indicator: whoever whispered "typing" in the last 3 seconds.
  const typing = new Map();
  function renderTyping() {
    const names = [...typing.values()].map((entry) => entry.name);
    $('typing').hidden = names.length === 0;
    $('typing').textContent = names.length === 0 ? ''
      : `${names.join(', ')} ${names.length === 1 ? 'is' : 'are'} typing…`;
  }
  function startTyping({ id, name }) {
    clearTimeout(typing.get(id)?.timer);
    typing.set(id, { name, timer: setTimeout(() => stopTyping(id), 3000) });
    renderTyping();
  }
  function stopTyping(id) {
    clearTimeout(typing.get(id)?.timer);
    if (typing.delete(id)) renderTyping();
  }

  const channel = echo.join(`room.${room}`)
    .here((users) => {
      members.clear();
      users.forEach((member) => members.set(member.id, member));
      renderMembers();
    })
    .joining((member) => {
      members.set(member.id, member);
      renderMembers();
      notice(`${member.name} joined`);
    })
    .leaving((member) => {
      members.delete(member.id);
      stopTyping(member.id);
      renderMembers();
      notice(`${member.name} left`);
    })
    .listen('MessagePosted', addMessage)
    .listenForWhisper('typing', startTyping)
    .error((error) => notice(`Could not join the room (${error?.status ?? error?.type ?? 'error'})`));

  let lastWhisper = 0;
  $('message').addEventListener('input', () => {
    if ($('message').value === '' || Date.now() - lastWhisper < 1000) return;
    lastWhisper = Date.now();
    channel.whisper('typing', { id: user.id, name: user.name });
  });

  $('composer').addEventListener('submit', async (event) => {
    event.preventDefault();
    const input = $('message');
    const text = input.value.trim();
    if (text === '') return;
    input.value = '';
    lastWhisper = 0;
    try {
      const response = await fetch('/messages', {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          Accept: 'application/json',
          'X-CSRF-TOKEN': csrfToken,
          'X-Socket-ID': echo.socketId() ?? '', // the app broadcasts toOthers(): we add our own copy
        },
        body: JSON.stringify({ room, text }),
      });
      const body = await response.json();
      if (!response.ok) throw new Error(body.message ?? response.statusText);
      addMessage(body.message);
    } catch (error) {
      input.value = text;
      notice(`Not sent: ${error.message}`);
    }
  });
})();
