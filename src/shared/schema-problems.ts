/**
 * How a failed zod parse is told to people, written once for every strict schema (the
 * manifest, the API's bodies): a field path as `routes[0].path`, and one problem per issue in
 * words — `is required` only when the field is absent, `expected number, got string` when it
 * is there with the wrong type, otherwise the schema's own message. Parse with
 * `{ reportInput: true }` so a type issue carries what was given (zod drops it otherwise and
 * every type error would read as "is required").
 */
import type * as z from 'zod/v4';

/** `['routes', 0, 'path']` as `routes[0].path`. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? String(p) : `.${String(p)}`;
  return out;
}

/** The JSON type of a value as a problem names it: null, array, string, number, ... */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  return typeof value;
}

/**
 * The problem of one issue (not `unrecognized_keys`, which names fields of its own), without
 * its path.
 *
 * @example
 * describeIssue({ code: 'invalid_type', expected: 'number', input: '5', path: ['limits', 'timeoutMs'], message: '' });
 * // 'expected number, got string'
 */
export function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code !== 'invalid_type') return issue.message;
  if (!('input' in issue) || issue.input === undefined) return 'is required';
  if (issue.expected === 'int' && typeof issue.input === 'number') return 'must be an integer';
  return `expected ${issue.expected === 'int' ? 'integer' : issue.expected}, got ${describeValue(issue.input)}`;
}
