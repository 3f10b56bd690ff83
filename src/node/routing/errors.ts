/**
 * The errors of routed payments: the payer's (`ROUTE_FAILED`, `NO_ROUTE`, `ROUTE_TOO_LONG`) and a
 * hub's refusals to forward a lock (each sent upstream in a `route-failed` message, the incoming
 * lock cancelled back).
 */
import { SluiceError } from "../../errors";
import type { Address, Hex } from "../../types";

/** The routed lock came back: `hop` could not forward it (`peerCode` is its error code, `reason` its words). Nothing was paid. */
export class RouteFailedError extends SluiceError {
  static override readonly code: string = "ROUTE_FAILED";
  override readonly name: string = "RouteFailedError";

  constructor(
    readonly hashlock: Hex,
    readonly hop: Address,
    readonly peerCode: string,
    readonly reason: string,
  ) {
    super(`the routed payment failed at ${hop} (${peerCode}): ${reason}; the lock was cancelled back and nothing was paid`);
  }
}

/** No direct channel with the payee and no connected hub that reaches it in the asset with enough to send. */
export class NoRouteError extends SluiceError {
  static override readonly code: string = "NO_ROUTE";
  override readonly name: string = "NoRouteError";

  constructor(
    readonly payee: Address,
    readonly asset: Address,
    detail: string,
  ) {
    super(`no route to the payee ${payee} in asset ${asset}: ${detail}`);
  }
}

/** An explicit route names more hubs than a payment may cross. */
export class RouteTooLongError extends SluiceError {
  static override readonly code: string = "ROUTE_TOO_LONG";
  override readonly name: string = "RouteTooLongError";

  constructor(
    readonly hops: number,
    readonly max: number,
  ) {
    super(`a route crosses at most ${max} hubs, not ${hops}`);
  }
}

/** This node does not forward locks (it was started without --hub). */
export class NotAHubError extends SluiceError {
  static override readonly code: string = "NOT_A_HUB";
  override readonly name: string = "NotAHubError";

  constructor(readonly node: Address) {
    super(`${node} does not route payments (not started with --hub)`);
  }
}

/** A hub's refusal to forward a lock: each subclass names the rule broken (its code and message). */
export class ForwardRefusedError extends SluiceError {
  static override readonly code: string = "FORWARD_REFUSED";
  override readonly name: string = "ForwardRefusedError";
}

/** The incoming lock does not pay the amount to forward plus the hub's fee. */
export class ForwardFeeTooLowError extends ForwardRefusedError {
  static override readonly code: string = "FORWARD_FEE_TOO_LOW";
  override readonly name: string = "ForwardFeeTooLowError";

  constructor(
    readonly amountIn: bigint,
    readonly amountOut: bigint,
    readonly fee: bigint,
  ) {
    super(`the incoming lock of ${amountIn} does not cover ${amountOut} to forward plus the fee of ${fee}`);
  }
}

/** The outgoing lock would expire too soon: the incoming lock leaves less than a reveal window per hop. */
export class ForwardExpiryError extends ForwardRefusedError {
  static override readonly code: string = "FORWARD_EXPIRY_TOO_SOON";
  override readonly name: string = "ForwardExpiryError";

  constructor(
    readonly expiry: bigint,
    readonly earliest: bigint,
  ) {
    super(`the outgoing lock would expire at ${expiry}, before ${earliest} (now + the reveal window)`);
  }
}

/** The hub has no open channel with the next hop in the asset, or that peer is not connected. */
export class ForwardNoChannelError extends ForwardRefusedError {
  static override readonly code: string = "FORWARD_NO_CHANNEL";
  override readonly name: string = "ForwardNoChannelError";

  constructor(
    readonly next: Address,
    readonly asset: Address,
    readonly why: "none" | "offline",
  ) {
    super(why === "none" ? `no open channel with ${next} in asset ${asset}` : `the next hop ${next} is not connected`);
  }
}

/** The last hop's instruction does not match its invoice (payee, amount, asset or hashlock). */
export class ForwardInvoiceMismatchError extends ForwardRefusedError {
  static override readonly code: string = "FORWARD_INVOICE_MISMATCH";
  override readonly name: string = "ForwardInvoiceMismatchError";

  constructor(readonly problem: string) {
    super(`the route's last hop does not match its invoice: ${problem}`);
  }
}

/** The lock forwarded downstream came back (given back or expired there). */
export class ForwardCancelledError extends ForwardRefusedError {
  static override readonly code: string = "FORWARD_CANCELLED";
  override readonly name: string = "ForwardCancelledError";

  constructor(
    readonly next: Address,
    readonly how: "cancel" | "expire" | "missing",
  ) {
    super(`the lock forwarded to ${next} was ${how === "cancel" ? "given back" : how === "expire" ? "dropped after its expiry" : "not made"}`);
  }
}
