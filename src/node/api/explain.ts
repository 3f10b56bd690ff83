/**
 * Error replies in the user's words (server side). The channel's errors carry base units and
 * participant numbers, the chain's reverts the contract's error names: the reply's message says
 * them in the asset's unit, as "you" or "your peer", in plain words, while `code` and `details`
 * keep the typed fields (base units as strings) for programs. The chain's refusal of a transaction
 * the wallet can't pay for becomes GAS_FUNDS_TOO_LOW, a chain that does not answer
 * CHAIN_UNREACHABLE, instead of INTERNAL.
 */
import { ChainUnreachableError, ContractRevertError } from "../../chain/errors";
import { chainUnreachable, isGasFundsFailure } from "../../chain/failures";
import { revertInPlainWords } from "../../chain/revertWords";
import { WithdrawalExceedsBalanceError, WithdrawalPendingError } from "../../channel/errors";
import { GasFundsError, InsufficientFundsError } from "../../errors";
import { formatHumanAmount } from "../../humanText";
import { checkAddress, checkBytes32 } from "../../schema/primitives";
import { mapError, type MappedError } from "./codes";
import type { AssetInfo, NodeApi } from "./types";

/** The reply to `error`, thrown by a method called with `args` (undefined if they did not decode). */
export async function explainError(error: unknown, args: readonly unknown[] | undefined, api: NodeApi): Promise<MappedError> {
  try {
    if (isGasFundsFailure(error)) return mapError(new GasFundsError((await api.info()).address.toLowerCase(), { cause: error }));
    const unreachable = chainUnreachable(error);
    if (unreachable !== undefined) return mapError(new ChainUnreachableError(unreachable, { cause: error }));
    const mapped = mapError(error);
    const message = await inPlainWords(error, args, api);
    if (message !== undefined) mapped.body.message = message;
    return mapped;
  } catch {
    // A lookup for the message failed: the error as it is.
    return mapError(error);
  }
}

async function inPlainWords(error: unknown, args: readonly unknown[] | undefined, api: NodeApi): Promise<string | undefined> {
  if (error instanceof ContractRevertError) return revertInPlainWords(error, await assetOf(args, api).catch(() => undefined));
  const channelId = checkBytes32(args?.[0]);
  if (!channelId.ok || !(error instanceof InsufficientFundsError || error instanceof WithdrawalPendingError)) return undefined;
  const channel = await api.channel(channelId.value);
  const asset = await api.asset(channel.asset);
  const human = (value: bigint) => formatHumanAmount(value, asset);
  if (error instanceof WithdrawalPendingError) {
    return `your previous cash-out still waits for your peer's countersignature (it brings your cash-outs of this channel to ${human(error.total)} in all)`;
  }
  const who = error.payer === channel.me ? "you" : "your peer";
  if (error instanceof WithdrawalExceedsBalanceError) {
    const whose = who === "you" ? "your" : "your peer's";
    return `can't cash out ${human(error.amount)}: ${who} can cash out at most ${human(error.available)} in this channel (${whose} balance less pending payments and earlier cash-outs)`;
  }
  // "can't pay 1,000,000 ETH: you can pay at most 7.75 ETH in this channel"
  return `can't pay ${human(error.amount)}: ${who} can pay at most ${human(error.available)} in this channel`;
}

/** The asset a request is about: its channel's (the first argument a channel id), or the one it names. */
async function assetOf(args: readonly unknown[] | undefined, api: NodeApi): Promise<AssetInfo | undefined> {
  const first = args?.[0];
  const channelId = checkBytes32(first);
  if (channelId.ok) return api.asset((await api.channel(channelId.value)).asset);
  const named = checkAddress(typeof first === "object" && first !== null && "asset" in first ? first.asset : first);
  return named.ok ? api.asset(named.value) : undefined;
}
