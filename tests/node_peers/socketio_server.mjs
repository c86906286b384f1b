// socket.io (npm) at 127.0.0.1 and a free port, printed as "listening on PORT": "chat" is answered with a
// "reply" event carrying bytes, "ask" is acknowledged with a value and bytes, and /admin takes a token.
import http from "node:http";
import { Server } from "socket.io";

const server = http.createServer();
const io = new Server(server, { transports: ["websocket"] });
io.on("connection", (socket) => {
  socket.on("chat", (text) => socket.emit("reply", { text, blob: Buffer.from([0, 1, 2]) }));
  socket.on("ask", (n, ack) => ack({ double: n * 2 }, Buffer.from([0xff, 0xfe])));
});
io.of("/admin").on("connection", (socket) => socket.emit("welcome", socket.handshake.auth));
server.listen(0, "127.0.0.1", () => console.log(`listening on ${server.address().port}`));
