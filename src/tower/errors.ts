/** Why a tower refuses a state a client hands it; the client hears the code, and nothing was stored. */
import { SluiceError } from "../errors";
import type { Address, Hex } from "../types";

/** The state is not of the channel the params give (its `channelId` is another one). */
export class TowerChannelMismatchError extends SluiceError {
  static override readonly code: string = "TOWER_CHANNEL_MISMATCH";
  override readonly name: string = "TowerChannelMismatchError";
  constructor(
    readonly stateChannel: Hex,
    readonly paramsChannel: Hex,
  ) {
    super(`the state is of channel ${stateChannel}, the params give channel ${paramsChannel}`);
  }
}

/** The client handed a state of a channel whose params do not name it as a participant. */
export class TowerNotYourChannelError extends SluiceError {
  static override readonly code: string = "TOWER_NOT_YOUR_CHANNEL";
  override readonly name: string = "TowerNotYourChannelError";
  constructor(
    readonly channelId: Hex,
    readonly client: Address,
  ) {
    super(`${client} is not a participant of channel ${channelId}: a tower watches only its clients' own channels`);
  }
}

/** A signature of the state is not its participant's (or is missing): the chain would refuse it too. */
export class TowerBadSignatureError extends SluiceError {
  static override readonly code: string = "TOWER_BAD_SIGNATURE";
  override readonly name: string = "TowerBadSignatureError";
  constructor(
    readonly channelId: Hex,
    readonly participant: 0 | 1,
    readonly signer: Address,
  ) {
    super(`signature ${participant} of the state of channel ${channelId} is not ${signer}'s`);
  }
}
