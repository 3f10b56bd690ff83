/** A channel's payments through the API: paying the peer, listing the payments, proving one against the latest state. */
import type { AdjudicatorDriver } from "../chain";
import { InvalidArgumentError } from "../errors";
import type { PaymentsQuery, PaymentView, ProofView } from "./api/types";
import type { NodeMetrics } from "./metrics";
import { paymentViewOf, resolveRef, type PaymentRef } from "./paymentRef";
import type { ChannelSession } from "./session";
import type { ChannelStore } from "./store";

/** Pays the peer; resolves once the countersigned state is on disk. */
export async function payPeer(session: ChannelSession, amount: bigint, paymentRef: PaymentRef, metrics: Pick<NodeMetrics, "paymentStarted">): Promise<PaymentView> {
  const { ref, memo } = resolveRef(paymentRef);
  const timed = metrics.paymentStarted();
  const done = await session.pay(amount, ref, memo);
  timed();
  return paymentViewOf({ ...done, memo: done.memo ?? memo });
}

export function listPayments(store: Pick<ChannelStore, "payments">, session: ChannelSession, query: PaymentsQuery): PaymentView[] {
  const ref = query.ref === undefined ? undefined : resolveRef(query.ref).ref;
  const payer = query.direction === undefined ? undefined : query.direction === "sent" ? session.me : ((1 - session.me) as 0 | 1);
  const ms = (seconds: bigint | undefined) => (seconds === undefined ? undefined : Number(seconds > 8_640_000_000_000n ? 8_640_000_000_000n : seconds) * 1000);
  const filter = { fromSeq: query.fromSeq, limit: query.limit, ref, payer, since: ms(query.since), until: ms(query.until) };
  return store.payments(session.id, filter).map(paymentViewOf);
}

/** Payment `seq`'s Merkle proof against the latest state, and whether the chain accepts it. */
export async function proofOf(
  store: Pick<ChannelStore, "payment">,
  driver: Pick<AdjudicatorDriver, "verifyPayment">,
  session: ChannelSession,
  seq: bigint,
): Promise<ProofView> {
  const record = store.payment(session.id, seq);
  if (!record) throw new InvalidArgumentError(`channel ${session.id} has no payment ${seq}`);
  const proof = session.proof(seq);
  const state = session.latest.state;
  const verifiedOnChain = await driver.verifyPayment(session.id, state, proof.payment, proof.proof);
  return {
    payment: paymentViewOf(record),
    leaf: proof.leaf,
    proof: proof.proof,
    root: proof.root,
    stateVersion: state.version,
    verifiedOnChain,
  };
}
