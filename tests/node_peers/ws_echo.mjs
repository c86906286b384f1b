// The ws library's echo server with its default options, on 127.0.0.1 and a free port, printed as
// "listening on PORT": the endpoint probe's node peer.
import { WebSocketServer } from "ws";

const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
server.on("connection", (socket) => {
  socket.on("message", (data, isBinary) => socket.send(data, { binary: isBinary }));
  socket.on("error", () => {});
});
server.on("listening", () => console.log(`listening on ${server.address().port}`));
