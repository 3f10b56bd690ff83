/**
 * What a tower accepts from a client: a state of one of the client's channels, signed by both
 * participants, newer than the one it holds. The checks run before anything is stored.
 */
import { StateHasher, channelId as channelIdOf, type SignatureVerifier } from "../crypto";
import type { Address, Params, SignedState } from "../types";
import { TowerBadSignatureError, TowerChannelMismatchError, TowerNotYourChannelError } from "./errors";
import type { TowerStateReply } from "./messages";
import type { TowerStore } from "./store";

export class TowerBook {
  private readonly hasher: StateHasher;

  constructor(
    private readonly store: TowerStore,
    private readonly verifier: SignatureVerifier,
    chainId: bigint,
    adjudicator: Address,
  ) {
    this.hasher = new StateHasher(chainId, adjudicator);
  }

  /**
   * Checks `signed` against `params` and keeps it as `client`'s newest state of the channel;
   * an older (or the same) version is ignored (`stored: false`). Throws, storing nothing, if the
   * state is of another channel, the client is not a participant, or a signature is not its
   * participant's.
   */
  accept(client: Address, params: Params, signed: SignedState): TowerStateReply {
    const channelId = channelIdOf(params);
    if (signed.state.channelId.toLowerCase() !== channelId.toLowerCase()) throw new TowerChannelMismatchError(signed.state.channelId, channelId);
    if (!params.participants.some((p) => p.toLowerCase() === client.toLowerCase())) throw new TowerNotYourChannelError(channelId, client);
    const digest = this.hasher.digest(signed.state);
    for (const i of [0, 1] as const) {
      if (!this.verifier.verify(params.participants[i], digest, signed.sigs[i])) throw new TowerBadSignatureError(channelId, i, params.participants[i]);
    }
    return { channelId, ...this.store.put(client, params, signed) };
  }
}
