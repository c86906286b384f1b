// k6/websockets over node's WebSocket (undici, which takes handshake headers): the events a k6 script uses
export class WebSocket {
  constructor(url, protocols, params) {
    this.socket = new globalThis.WebSocket(url, { protocols, headers: (params && params.headers) || {} });
    this.socket.onopen = (event) => this.onopen && this.onopen(event);
    this.socket.onmessage = (event) => this.onmessage && this.onmessage(event);
    this.socket.onerror = (event) => this.onerror && this.onerror(event);
    this.socket.onclose = (event) => this.onclose && this.onclose(event);
  }

  set binaryType(value) {
    this.socket.binaryType = value;
  }

  send(data) {
    this.socket.send(data);
  }

  close() {
    this.socket.close();
  }

  addEventListener(kind, handler) {
    // node's WebSocket reports no ping or pong frames
    if (kind !== "ping" && kind !== "pong") this.socket.addEventListener(kind, handler);
  }
}
