/**
 * Runs a schema on untrusted input and turns its first issue into the boundary's own error,
 * naming the offending field by its path (`payment.amount`, `participants[1]`).
 */
import type { z } from "zod";
import { describe } from "./primitives";

type Issue = z.core.$ZodIssue;

/** `a.b[0].c` from ["a", "b", 0, "c"], after `root` if given ("" for none). */
export function formatPath(path: readonly PropertyKey[], root = ""): string {
  let out = root;
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out === "" ? String(key) : `.${String(key)}`;
  }
  return out;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (typeof value !== "object" || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/** The path and the problem of one issue, in the words the boundaries use. */
export function describeIssue(issue: Issue, input: unknown): { path: PropertyKey[]; problem: string } {
  const path = [...issue.path];
  if (issue.code === "unrecognized_keys") return { path: [...path, issue.keys[0]], problem: "unknown field" };
  const value = valueAt(input, path);
  if (value === undefined && path.length > 0) return { path, problem: "missing" };
  switch (issue.code) {
    case "invalid_type":
      return { path, problem: issue.expected === "object" ? `expected an object, got ${describe(value)}` : issue.message };
    case "invalid_union":
      if ("discriminator" in issue && issue.discriminator !== undefined) {
        const options = (issue as { options?: unknown[] }).options ?? [];
        return { path, problem: `expected one of ${options.map((o) => JSON.stringify(o)).join(", ")}, got ${describe(value)}` };
      }
      return { path, problem: issue.message };
    case "invalid_value":
      return { path, problem: `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}, got ${describe(value)}` };
    default:
      return { path, problem: issue.message };
  }
}

/**
 * The decoded value, or `fail(path, problem)` thrown for the first issue; `root` prefixes the
 * path ("" leaves it as is, a top-level issue then has the path "").
 */
export function decodeWith<S extends z.ZodType>(
  schema: S,
  input: unknown,
  fail: (path: string, problem: string) => Error,
  root = "",
): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const { path, problem } = describeIssue(result.error.issues[0], input);
  return failWith(fail, formatPath(path, root), problem);
}

function failWith(fail: (path: string, problem: string) => Error, path: string, problem: string): never {
  throw fail(path, problem);
}
