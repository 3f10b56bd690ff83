/**
 * The chain's refusals a user can meet, in plain words: the adjudicator's custom errors and the
 * token's (OpenZeppelin's ERC-20 errors, EIP-6093), as facts without protocol names. Amounts in
 * the asset's unit when it is known, else in base units. The error's name and arguments stay on the
 * error (`errorName`, `args`) and in the API's `details`; advice (which command to run) is the
 * caller's. Errors only a faulty client can cause (a wrong signature, a malformed state) have no
 * entry: their message names them as the contract does.
 */
import { formatHumanAmount, formatTime, type AssetUnit } from "../humanText";
import type { ContractRevertError } from "./errors";

type Args = Readonly<Record<string, unknown>>;
type Words = (args: Args, amount: (value: unknown) => string, unit: AssetUnit | undefined) => string;

const time = (value: unknown) => (typeof value === "bigint" ? formatTime(value) : String(value));

const WORDS: Readonly<Record<string, Words>> = {
  ChallengeExpired: (a) => `the challenge period ended at ${time(a.deadline)}`,
  ChallengePending: (a) => `the challenge period runs until ${time(a.deadline)}`,
  ChannelChallengePeriodInvalid: (a) => `a challenge period of ${String(a.challengePeriod)} seconds is not accepted: from 1 second to 365 days`,
  ChannelChallenged: (a) => `a dispute runs on chain until ${time(a.deadline)}: the channel takes no cash-out meanwhile`,
  ChannelConcluded: () => "the channel has concluded on chain",
  ChannelNotChallenged: () => "no dispute is registered on chain for the channel",
  ChannelNotOpen: () => "the channel has no deposit on chain yet",
  DepositOverflow: (a, amount) => `a deposit of ${amount(a.amount)} on top of ${amount(a.deposit)} is more than the contract can hold`,
  DepositZero: () => "a deposit must be more than zero",
  DepositValueMismatch: (a, amount) => `the transaction sent ${amount(a.value)} for a deposit of ${amount(a.expected)}`,
  DepositNotReceived: () => "the token did not transfer the deposit to the adjudicator",
  StateStale: (a) => `the chain holds a newer state (version ${String(a.registeredVersion)}) than this one (version ${String(a.version)})`,
  WithdrawNothing: (a, _amount, unit) => `nothing is credited to ${String(a.owner)} in ${unit?.symbol ?? String(a.asset)}`,
  WithdrawalExpired: (a) => `the signed cash-out expired at ${time(a.expiry)} before it was executed`,
  WithdrawalExceedsHoldings: (a, amount) => `the channel holds ${amount(a.holdings)} on chain, less than the ${amount(a.amount)} asked for`,
  PayoutGasInsufficient: () => "the transaction had too little gas left to pay out: send it with more gas",
  WithdrawFailed: (a, amount) => `the transfer of ${amount(a.amount)} to ${String(a.to)} failed; the credit is kept`,
  SafeERC20FailedOperation: (a) => `the token ${String(a.token)} refused the transfer (it returned false, or is no token)`,
  ERC20InsufficientBalance: (a, amount) => `the token refused the transfer: ${String(a.sender)} holds ${amount(a.balance)}, and ${amount(a.needed)} is needed`,
  ERC20InsufficientAllowance: (a, amount) =>
    `the token refused the transfer: ${String(a.spender)} may spend only ${amount(a.allowance)} of the wallet's tokens, and ${amount(a.needed)} is needed`,
  Error: (a) => `the contract refused: ${String(a.message)}`,
};

/** The refusal in plain words, or `undefined` if it has none here (see above). */
export function revertInPlainWords(error: ContractRevertError, unit?: AssetUnit): string | undefined {
  const words = error.errorName === undefined ? undefined : WORDS[error.errorName];
  if (words === undefined) return undefined;
  const amount = (value: unknown) =>
    typeof value !== "bigint" ? String(value) : unit === undefined ? `${value} base units` : formatHumanAmount(value, unit);
  return words(error.args, amount, unit);
}
