/**
 * Every error Sluice throws is a `SluiceError`; each failure a caller can act on has its own
 * subclass, so callers catch by class rather than by message.
 */
export class SluiceError extends Error {
  override readonly name: string = "SluiceError";

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
