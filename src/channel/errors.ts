/**
 * Errors of the channel state machine beyond the shared ones of src/errors.ts: the v2 additions
 * this client handles (locks it refuses for now, withdrawals while the channel stays open).
 */
import { SluiceError } from "../errors";

/**
 * A state carries locks (`locked` or `locksRoot` not zero). This client makes and accepts no
 * hashlocked transfers yet, so it refuses to sign such a state; nothing changed.
 */
export class LocksUnsupportedError extends SluiceError {
  override readonly name: string = "LocksUnsupportedError";

  constructor(readonly version: bigint) {
    super(`state version ${version} carries locks, which this client does not handle yet`);
  }
}
