// Connects to a Socket.IO server through a path prefix, starting with HTTP long-polling as Socket.IO
// does, waits for the upgrade to WebSocket and asks 'whoami' before and after it.
// Usage: node client.js BASE_URL PATH. Prints one JSON line: { transport, names } or { error }.
const { io } = require('socket.io-client');

const [baseUrl, path] = process.argv.slice(2);
const socket = io(baseUrl, { path, transports: ['polling', 'websocket'], reconnection: false, timeout: 5000 });
const deadline = setTimeout(() => finish({ error: 'timed out' }), 10000);

function finish(result) {
  clearTimeout(deadline);
  console.log(JSON.stringify(result));
  socket.close();
  process.exit(result.error ? 1 : 0);
}

socket.on('connect_error', (error) => finish({ error: error.message }));
socket.on('connect', async () => {
  const names = [await socket.emitWithAck('whoami')];
  while (socket.io.engine.transport.name !== 'websocket') {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  for (let i = 0; i < 3; i++) {
    names.push(await socket.emitWithAck('whoami'));
  }
  finish({ transport: socket.io.engine.transport.name, names });
});
