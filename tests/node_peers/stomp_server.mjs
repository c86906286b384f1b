// stomp-broker-js (a STOMP 1.1 broker) on a node http server at 127.0.0.1 and a free port, path /stomp, printed as
// "listening on PORT". What a client SENDs to a destination is delivered to the other clients subscribed to it;
// each subscription is printed as "subscribed ID DESTINATION" once the broker has it. What is sent to /queue/echo
// the broker itself sends again to /topic/echo, so one client hears what it sent.
import http from "node:http";
import StompServer from "stomp-broker-js";

const server = http.createServer();
const broker = new StompServer({ server, path: "/stomp", heartbeat: [0, 0] });
broker.on("subscribe", (sub) => console.log(`subscribed ${sub.id} ${sub.topic}`));
broker.subscribe("/queue/echo", (body, headers) => broker.send(
    "/topic/echo", { destination: "/topic/echo", "content-type": headers["content-type"] || "text/plain" }, body));
server.listen(0, "127.0.0.1", () => console.log(`listening on ${server.address().port}`));
