import { SluiceError } from "../errors";

/** The node could not start as configured; the message says what to change. */
export class NodeConfigError extends SluiceError {
  static override readonly code: string = "NODE_CONFIG";
  override readonly name: string = "NodeConfigError";
}
