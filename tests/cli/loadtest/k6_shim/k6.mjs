// k6's check(): every result is kept, for run.mjs to print
export const results = [];

export function check(value, sets) {
  let all = true;
  for (const [name, test] of Object.entries(sets)) {
    const ok = Boolean(test(value));
    results.push({ name, ok });
    all = all && ok;
  }
  return all;
}
