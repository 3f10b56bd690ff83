/**
 * The payout maths of the adjudicator's `Payouts` library, off-chain. The channel holds
 * `Σdeposit - Σwithdrawn`. Participant i's balance is
 * `deposit[i] - withdrawn[i] + transferred[1-i] - transferred[i] - locked[i]`; at settlement
 * participant 0's balance, clamped to [0, holdings], is paid first, then each side's locked amount
 * is held back from what is left (0's, then 1's), and participant 1 gets the rest.
 */

/** What a channel holds on chain for the payout maths: cumulative deposits and withdrawals. */
export interface Funds {
  deposits: readonly [bigint, bigint];
  withdrawn: readonly [bigint, bigint];
}

/** The part of a state the payout maths reads. */
export interface Balances {
  transferred: readonly [bigint, bigint];
  locked: readonly [bigint, bigint];
}

const NO_LOCKS: readonly [bigint, bigint] = [0n, 0n];

/** What each payee is paid and what stays held back for each side's locks, as `Payouts.split`. */
export function split(funds: Funds, state: Balances): { payouts: [bigint, bigint]; heldBack: [bigint, bigint] } {
  const { deposits, withdrawn } = funds;
  let rest = deposits[0] + deposits[1] - withdrawn[0] - withdrawn[1];
  if (rest < 0n) rest = 0n;
  const balance0 = balance(funds, state, 0);
  const payout0 = balance0 <= 0n ? 0n : balance0 < rest ? balance0 : rest;
  rest -= payout0;
  const held0 = state.locked[0] < rest ? state.locked[0] : rest;
  rest -= held0;
  const held1 = state.locked[1] < rest ? state.locked[1] : rest;
  return { payouts: [payout0, rest - held1], heldBack: [held0, held1] };
}

/** What each payee would be paid if the channel settled on `transferred` (and `locked`) now. */
export function payouts(funds: Funds, transferred: readonly [bigint, bigint], locked: readonly [bigint, bigint] = NO_LOCKS): [bigint, bigint] {
  return split(funds, { transferred, locked }).payouts;
}

/**
 * Participant `who`'s balance, unclamped: `deposit - withdrawn + received - paid - locked`. Negative
 * for a state an honest client never signs. What `who` can still pay or withdraw on top of `state`.
 */
export function balance(funds: Funds, state: Balances, who: 0 | 1): bigint {
  const other = who === 0 ? 1 : 0;
  return funds.deposits[who] - funds.withdrawn[who] + state.transferred[other] - state.transferred[who] - state.locked[who];
}

/** What `payer` can still pay on top of `transferred` (no locks) without its balance dropping below zero. */
export function spendable(funds: Funds, transferred: readonly [bigint, bigint], payer: 0 | 1): bigint {
  return balance(funds, { transferred, locked: NO_LOCKS }, payer);
}
