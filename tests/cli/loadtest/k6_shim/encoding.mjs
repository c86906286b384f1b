export default {
  b64encode: (text) => Buffer.from(text, "utf-8").toString("base64"),
};
