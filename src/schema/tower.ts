/**
 * What a node and its watchtower say over the authenticated transport (src/tower/messages.ts has
 * the types and the validators): the client hands a channel's params with a state both sides
 * signed; the tower answers with the newest version it holds.
 */
import { z } from "zod";
import { address, boolean, bytes32, list, pair, uint64 } from "./primitives";
import { signedState } from "./peer";

/** Channels one `tower.channels` reply lists at most: a client asks for them once per connection. */
export const MAX_TOWER_CHANNELS = 100_000;

/** A channel's fixed part, all of it (the tower checks the state's signers against `participants`). */
export const params = z.strictObject({
  participants: pair(address),
  payees: pair(address),
  asset: address,
  challengePeriod: uint64,
  nonce: uint64,
});

export const towerBodies = {
  /** "Watch this channel with this state" (a newer one replaces the one held). */
  "tower.state": z.strictObject({ params, signed: signedState }),
  /** "Which of my channels do you hold, at which version?" */
  "tower.channels": z.strictObject({}),
};

/** The tower's answer to a state: the newest version it holds now, and whether this one was stored. */
export const towerStateReply = z.strictObject({ channelId: bytes32, version: uint64, stored: boolean });

export const towerChannelsReply = z.strictObject({
  channels: list(z.strictObject({ channelId: bytes32, version: uint64 }), MAX_TOWER_CHANNELS),
});
