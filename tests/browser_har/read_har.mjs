// Reads a HAR file as a reader other than wsinspector does: har-validator checks it against the HAR 1.2 schema,
// then each WebSocket message's bytes are taken from its data as Chrome's convention says (opcode 2: base64).
// Prints the messages as JSON: [{type, opcode, hex}], or the validator's errors and exit code 1.
import { readFileSync } from "node:fs";
import validator from "har-validator";

const har = JSON.parse(readFileSync(process.argv[2], "utf8"));
try {
  await validator.har(har);
} catch (error) {
  console.error(JSON.stringify(error.errors ?? String(error)));
  process.exit(1);
}
const messages = [];
for (const entry of har.log.entries) {
  for (const message of entry._webSocketMessages ?? []) {
    const bytes = message.opcode === 2 ? Buffer.from(message.data, "base64") : Buffer.from(message.data, "utf8");
    messages.push({ type: message.type, opcode: message.opcode, hex: bytes.toString("hex") });
  }
}
console.log(JSON.stringify(messages));
