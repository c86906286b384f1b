const set = globalThis.setTimeout;
const clear = globalThis.clearTimeout;
export { set as setTimeout, clear as clearTimeout };
