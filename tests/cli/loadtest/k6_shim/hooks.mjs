// Module hooks: the k6 modules a script imports are read from this folder (k6.mjs, websockets.mjs, ...).
const SHIMS = {
  k6: "k6.mjs",
  "k6/websockets": "websockets.mjs",
  "k6/timers": "timers.mjs",
  "k6/encoding": "encoding.mjs",
};

export async function resolve(specifier, context, nextResolve) {
  if (specifier in SHIMS) return { url: new URL(SHIMS[specifier], import.meta.url).href, shortCircuit: true };
  return nextResolve(specifier, context);
}
