/**
 * The tower protocol, over the peer transport (the same EIP-712 handshake: the tower learns its
 * client's address from it):
 *
 * | type           | sent by | body                          | answer                                   |
 * |----------------|---------|-------------------------------|------------------------------------------|
 * | tower.state    | client  | {params, signed}              | {channelId, version, stored}             |
 * | tower.channels | client  | {}                            | {channels: [{channelId, version}]}       |
 *
 * Only the client asks; the tower never sends a request.
 */
import { encodeSignedState } from "../channel";
import { MalformedMessageError } from "../errors";
import { decodeWith } from "../schema/decode";
import * as schema from "../schema/tower";
import type { Validators } from "../node/transport";
import type { Hex, Params, SignedState } from "../types";

export interface TowerStateBody {
  params: Params;
  signed: SignedState;
}

export interface TowerStateReply {
  channelId: Hex;
  /** The newest version the tower holds for this client and channel. */
  version: bigint;
  /** False when the state handed was not newer than the one held (it was ignored). */
  stored: boolean;
}

export interface TowerChannel {
  channelId: Hex;
  version: bigint;
}

export interface TowerMessages {
  "tower.state": TowerStateBody;
  "tower.channels": Record<string, never>;
}

const malformedAt = (root: string) => (path: string, problem: string) => new MalformedMessageError(path ? `${root}.${path}` : root, problem);

/** The tower's side: every client request decoded once, before its handler runs. */
export const towerValidators: Validators<TowerMessages> = {
  "tower.state": (body) => decodeWith(schema.towerBodies["tower.state"], body, malformedAt("body")),
  "tower.channels": (body) => {
    decodeWith(schema.towerBodies["tower.channels"], body, malformedAt("body"));
    return {};
  },
};

export function encodeParams(params: Params): Record<string, unknown> {
  return {
    participants: [...params.participants],
    payees: [...params.payees],
    asset: params.asset,
    challengePeriod: params.challengePeriod.toString(),
    nonce: params.nonce.toString(),
  };
}

export function encodeTowerState(body: TowerStateBody): Record<string, unknown> {
  return { params: encodeParams(body.params), signed: encodeSignedState(body.signed) };
}

export function encodeTowerStateReply(reply: TowerStateReply): Record<string, unknown> {
  return { channelId: reply.channelId, version: reply.version.toString(), stored: reply.stored };
}

export function decodeTowerStateReply(input: unknown): TowerStateReply {
  return decodeWith(schema.towerStateReply, input, malformedAt("reply"));
}

export function encodeTowerChannels(channels: readonly TowerChannel[]): Record<string, unknown> {
  return { channels: channels.map((c) => ({ channelId: c.channelId, version: c.version.toString() })) };
}

export function decodeTowerChannels(input: unknown): TowerChannel[] {
  return decodeWith(schema.towerChannelsReply, input, malformedAt("reply")).channels;
}
