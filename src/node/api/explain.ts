/**
 * Error replies in the user's words (server side). The channel's errors carry base units and
 * participant numbers; the reply's message says them in the channel's asset and as "you" or "your
 * peer", while `details` keeps the typed fields (base units as strings) for programs. The chain's
 * refusal of a transaction the wallet can't pay for becomes GAS_FUNDS_TOO_LOW instead of INTERNAL.
 */
import { WithdrawalExceedsBalanceError } from "../../channel/errors";
import { GasFundsError, InsufficientFundsError } from "../../errors";
import { formatHumanAmount } from "../../humanAmount";
import { checkBytes32 } from "../../schema/primitives";
import { isGasFundsFailure } from "../wallet";
import { mapError, type MappedError } from "./codes";
import type { Hex } from "../../types";
import type { NodeApi } from "./types";

/** The reply to `error`, thrown by a method called with `args` (undefined if they did not decode). */
export async function explainError(error: unknown, args: readonly unknown[] | undefined, api: NodeApi): Promise<MappedError> {
  try {
    if (isGasFundsFailure(error)) return mapError(new GasFundsError((await api.info()).address.toLowerCase(), { cause: error }));
    const mapped = mapError(error);
    const channelId = checkBytes32(args?.[0]);
    if (error instanceof InsufficientFundsError && channelId.ok) mapped.body.message = await insufficientFunds(error, channelId.value, api);
    return mapped;
  } catch {
    // A lookup for the message failed: the error as it is.
    return mapError(error);
  }
}

/** "can't pay 1,000,000 ETH: you can pay at most 7.75 ETH in this channel". */
async function insufficientFunds(error: InsufficientFundsError, channelId: Hex, api: NodeApi): Promise<string> {
  const channel = await api.channel(channelId);
  const asset = await api.asset(channel.asset);
  const human = (value: bigint) => formatHumanAmount(value, asset);
  const who = error.payer === channel.me ? "you" : "your peer";
  if (error instanceof WithdrawalExceedsBalanceError) {
    const whose = who === "you" ? "your" : "your peer's";
    return `can't cash out ${human(error.amount)}: ${who} can cash out at most ${human(error.available)} in this channel (${whose} balance less pending payments and earlier cash-outs)`;
  }
  return `can't pay ${human(error.amount)}: ${who} can pay at most ${human(error.available)} in this channel`;
}
