/** Payment traffic on a channel between two cluster nodes, with the payee's node killed in the middle of it. */
import { randomBytes } from "node:crypto";
import { hexlify } from "ethers";
import type { Hex } from "../../../src/types";
import { sleep, waitFor, type ClusterNode } from "./cluster";

export const newRef = (): Hex => hexlify(randomBytes(32)) as Hex;

/** Pays until the payment goes through (the payer redials after a restart); the ref keeps a retry from paying twice. */
export function payUntilDone(node: ClusterNode, channelId: Hex, amount: bigint, ref: Hex): Promise<void> {
  return waitFor(() => node.process.api.pay(channelId, amount, ref).then(() => true), { what: `the payment of ${amount}`, timeoutMs: 30_000, intervalMs: 200 });
}

/**
 * `each[0]` payments from `payer` and `each[1]` from `victim` (amounts 1,000 + i and 2,000 + i), then
 * a burst of `burst` from `payer` (3,000 + i) with `victim`'s node killed with SIGKILL 30 ms into it
 * and restarted; each payment the kill failed is sent again until it goes through. Resolves to how
 * many failed under the kill.
 */
export async function paymentsAcrossKill(payer: ClusterNode, victim: ClusterNode, channelId: Hex, each: [number, number], burst: number): Promise<number> {
  for (let i = 0; i < each[0]; i++) await payer.process.api.pay(channelId, 1_000n + BigInt(i), newRef());
  for (let i = 0; i < each[1]; i++) await victim.process.api.pay(channelId, 2_000n + BigInt(i), newRef());
  const payments = Array.from({ length: burst }, (_, i) => ({ amount: 3_000n + BigInt(i), ref: newRef() }));
  const outcomes = payments.map(({ amount, ref }) =>
    payer.process.api.pay(channelId, amount, ref).then(
      () => true,
      () => false,
    ),
  );
  await sleep(30);
  await victim.process.kill();
  await victim.process.restart();
  const done = await Promise.all(outcomes);
  for (const [i, ok] of done.entries()) if (!ok) await payUntilDone(payer, channelId, payments[i].amount, payments[i].ref);
  return done.filter((ok) => !ok).length;
}
