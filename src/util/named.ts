/** Names a message lists one by one at most; thousands of sessions get a count for the rest, not a wall of numbers. */
export const NAMED_AT_MOST = 10;

/**
 * `a, b, c` — or the first NAMED_AT_MOST of `names` and `and N more`, of `total` in all (`names` may hold only the
 * first ones).
 */
export function atMostNamed(names: readonly (string | number)[], total = names.length): string {
  if (total <= NAMED_AT_MOST) return names.join(', ');
  return `${names.slice(0, NAMED_AT_MOST).join(', ')} and ${(total - NAMED_AT_MOST).toLocaleString('en-US')} more`;
}
