// node --experimental-websocket run.mjs SCRIPT: one iteration of a k6 script's default function, with the k6
// modules of this folder; prints the checks as JSON once the connection has closed.
import { register } from "node:module";
import { pathToFileURL } from "node:url";

register("./hooks.mjs", import.meta.url);
globalThis.__ENV = process.env;
const { results } = await import("./k6.mjs");
const script = await import(pathToFileURL(process.argv[2]).href);
const closed = new Promise((resolve) => {
  const Original = globalThis.WebSocket;
  globalThis.WebSocket = class extends Original {
    constructor(...args) {
      super(...args);
      this.addEventListener("close", () => setTimeout(resolve, 0));
    }
  };
});
script.default();
await closed;
console.log(JSON.stringify({ options: script.options, checks: results }));
