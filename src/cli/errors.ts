/** Errors of the command line: each carries the one-line message to print and the exit code. */
import { SluiceError } from "../errors";
import type { Json } from "../node/api/wire";

/**
 * A failure the CLI reports as is: `message` says what happened and what to do, `code` is the
 * code it reports (the node's, or its own such as NODE_NOT_RUNNING). Exit code 1.
 */
export class CliError extends SluiceError {
  static override readonly code: string = "CLI";
  override readonly name: string = "CliError";
  readonly exitCode: number = 1;

  constructor(
    message: string,
    override readonly code: string,
    readonly details?: Json,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The command line itself is wrong (unknown command or flag, missing argument, bad value). Exit code 2. */
export class UsageError extends CliError {
  static override readonly code: string = "USAGE";
  override readonly name: string = "UsageError";
  override readonly exitCode: number = 2;

  constructor(message: string, code = "USAGE") {
    super(message, code);
  }
}
