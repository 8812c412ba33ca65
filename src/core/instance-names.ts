/**
 * Names of the instances one RunInstances call launches, by the rule in the
 * model documentation of RunInstancesRequest.InstanceName:
 * - no name: every instance is named `未命名` ("unnamed");
 * - `{R:x}` is replaced by x, x+1, … x+n-1 across the n instances;
 *   `{R:x,F:y}` also pads the number with zeros to y digits (0 ≤ y ≤ 8; more
 *   digits than y are kept whole); several patterns may appear; anything else in
 *   braces (`{}`, `{R:}`, `{R:1,F:9}`) is plain text;
 * - without a pattern, one instance keeps the name as given and n > 1 instances
 *   get the suffixes 1 … n appended (`server_` → `server_1`, `server_2`).
 * Pure.
 */

export const UNNAMED = '未命名';
/** Longest InstanceName accepted, in characters, patterns included. */
export const MAX_NAME_CHARS = 128;

const PATTERN = /\{R:(\d+)(?:,F:([0-8]))?\}/g;

export function hasPattern(template: string): boolean {
  return new RegExp(PATTERN.source).test(template);
}

export function instanceNames(template: string | undefined, count: number): string[] {
  const indexes = Array.from({ length: count }, (_, i) => i);
  if (!template) return indexes.map(() => UNNAMED);
  if (!hasPattern(template)) return count === 1 ? [template] : indexes.map((i) => `${template}${i + 1}`);
  return indexes.map((i) =>
    template.replace(PATTERN, (_, start: string, width: string | undefined) =>
      (BigInt(start) + BigInt(i)).toString().padStart(Number(width ?? 0), '0'),
    ),
  );
}
