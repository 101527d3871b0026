// A Socket.IO upstream that answers 'whoami' with its name. Usage: node server.js NAME
// It listens on a free loopback port and prints "listening PORT" once ready.
const http = require('http');
const { Server } = require('socket.io');

const name = process.argv[2];
const server = http.createServer();
const io = new Server(server);
io.on('connection', (socket) => {
  socket.on('whoami', (answer) => answer(name));
});
server.listen(0, '127.0.0.1', () => console.log(`listening ${server.address().port}`));
