/** Every error class the modules of src/ export, found by loading each module and walking its exports. */
import { readdirSync } from "node:fs";
import path from "node:path";
import { SluiceError } from "../../src/errors";

/** A subclass of `SluiceError`, whatever its constructor takes. */
export type ErrorClass = (abstract new (...args: never[]) => SluiceError) & { readonly code: string; readonly prototype: SluiceError };

const SRC = path.resolve(__dirname, "..", "..", "src");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(file);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts") ? [file] : [];
  });
}

/** Each exported subclass of `SluiceError` (and `SluiceError`), with the module that exports it first. */
export function exportedErrorClasses(): Map<ErrorClass, string> {
  const found = new Map<ErrorClass, string>();
  for (const file of sourceFiles(SRC).sort()) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- every module of src/, found at run time
    const exports = require(file) as Record<string, unknown>;
    for (const value of Object.values(exports)) {
      if (typeof value !== "function") continue;
      if (value !== SluiceError && !((value as { prototype?: unknown }).prototype instanceof SluiceError)) continue;
      if (!found.has(value as ErrorClass)) found.set(value as ErrorClass, path.relative(SRC, file));
    }
  }
  return found;
}
