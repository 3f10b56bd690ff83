/**
 * What each participant gets when the channel settles on `transferred`, as the adjudicator's
 * `Payouts` computes it: deposit[i] + transferred[1-i] - transferred[i], clamped to
 * [0, deposit[0] + deposit[1]], the two always adding up to the deposits.
 */
export function payouts(deposits: readonly [bigint, bigint], transferred: readonly [bigint, bigint]): [bigint, bigint] {
  const total = deposits[0] + deposits[1];
  let payout0 = deposits[0] + transferred[1] - transferred[0];
  if (payout0 < 0n) payout0 = 0n;
  if (payout0 > total) payout0 = total;
  return [payout0, total - payout0];
}

/** What `payer` can still pay on top of `transferred` without its payout dropping below zero. */
export function spendable(deposits: readonly [bigint, bigint], transferred: readonly [bigint, bigint], payer: 0 | 1): bigint {
  return deposits[payer] + transferred[1 - payer] - transferred[payer];
}
