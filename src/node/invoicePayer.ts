/**
 * Invoices paid with a hashlocked transfer, both ends:
 * - the payer (`pay`): checks the invoice, records the payment (refusing a second one before any
 *   lock is made), locks the amount under the invoice's hashlock and waits for the unlock: over
 *   its direct channel with the payee, else through hubs (routing/finder.ts finds the route, the
 *   first hub gets its instruction before the lock, and a failure it relays rejects the payment);
 * - the payee (`onLocks`, `resolvePending`): a lock whose hashlock is an open invoice of its own,
 *   for at least its amount, marks the invoice paid and is unlocked with the secret; any other
 *   lock is given back (cancelled).
 */
import type { CommittedUpdate, LockPolicy } from "../channel";
import type { DecodedInvoiceView, PaymentView } from "./api/types";
import { SluiceError } from "../errors";
import { InvoiceStatusError, InvoiceUnderpaidError, UnknownInvoiceError } from "../invoice/errors";
import type { Address, Hex, Lock } from "../types";
import { lockLeafHex } from "../crypto/hash";
import { paymentViewOf } from "./paymentRef";
import { InvoiceAlreadyPaidError, InvoiceNotPayableError, InvoicePaymentFailedError } from "./payInvoiceErrors";
import { encodeRoute } from "./protocol";
import { RouteFailedError, type RouteFailures, type RouteFinder } from "./routing";
import { onceAtATime } from "./routing/once";
import type { ChannelSession } from "./session";
import type { ChannelStore } from "./store";
import type { InvoicePaymentRecord } from "./store/locks";
import type { CommitQueue } from "./commitQueue";

export interface InvoicePayerHost {
  store: ChannelStore;
  /** The node's group commit: the payment records share the states' fsyncs. */
  commits: Pick<CommitQueue, "apply">;
  /** This node's address. */
  address: Address;
  /** Decodes and checks an invoice string (checksum, fields, signature). */
  decode(text: string): Promise<DecodedInvoiceView>;
  /** The channels whose state can still change off chain (open, with a connected peer or not). */
  openSessions(): Iterable<ChannelSession>;
  /** The lock rules' clock (max(wall clock, latest block)) and window. */
  policy: Pick<LockPolicy, "clock" | "secretRevealedAt" | "minLockWindow" | "maxLockDuration">;
  onError(error: unknown, what: string): void;
  /** Routed payments: the route finder, the failures hubs sent back, and how an instruction reaches the first hub. */
  routing: {
    finder: RouteFinder;
    failures: RouteFailures;
    instruct(peer: Address, body: Record<string, unknown>): Promise<unknown>;
    /** True iff this node forwards the received `lock` as a hub (then it is not answered here). */
    forwards?(session: ChannelSession, lock: Lock): boolean;
  };
}

interface Waiter {
  /** The first hub of a routed payment (its failure message explains a cancel). */
  via?: Address;
  /** The payment's record, to write with the state that makes its lock (participant 1), until then. */
  begin?: { hashlock: Hex; invoice: string; channelId: Hex; amount: bigint };
  resolve(view: PaymentView): void;
  reject(error: unknown): void;
}

/** How far inside the reveal window's edge a payer's lock expires: the peer's clock may be a little ahead. */
export const EXPIRY_MARGIN = 60n;

export class InvoicePayer {
  /** The payer's calls waiting for their lock to be unlocked, by hashlock. */
  private readonly waiters = new Map<string, Waiter>();
  /** Received locks being unlocked or cancelled now, by leaf: each is handled once at a time. */
  private readonly handling = new Set<string>();

  constructor(private readonly host: InvoicePayerHost) {}

  /**
   * Pays an invoice (`sluice1…` or its JSON): over this node's open channel with its payee, else
   * through hubs (`route`: up to 3 hubs in order; without, the cheapest connected hub that reaches
   * the payee); resolves with the receipt of the lock once unlocked.
   */
  async pay(text: string, route?: readonly Address[]): Promise<PaymentView> {
    const { invoice, encoded, expired, sameNetwork } = await this.host.decode(text);
    if (!sameNetwork) {
      throw new InvoiceNotPayableError("network", `the invoice is for chain ${invoice.chainId} and adjudicator ${invoice.adjudicator}, not this node's`);
    }
    if (expired) throw new InvoiceNotPayableError("expired", `the invoice expired at ${invoice.expiry} (unix seconds)`);
    const hashlock = invoice.hashlock.toLowerCase() as Hex;
    const direct = route === undefined ? this.channelWith(invoice.payee, invoice.asset) : undefined;
    let session: ChannelSession;
    let lock: { amount: bigint; expiry: bigint };
    let routed: { via: Address; body: Record<string, unknown> } | undefined;
    if (direct) {
      session = direct;
      lock = { amount: invoice.amount, expiry: this.directExpiry(invoice.expiry) };
    } else {
      const found = await this.host.routing.finder.find(invoice, encoded, route);
      session = found.session;
      lock = found.plan;
      routed = { via: found.session.peerAddress, body: encodeRoute(found.body) };
    }
    const locks = this.host.store.locks;
    const begin = { hashlock, invoice: encoded, channelId: session.id, amount: lock.amount };
    // Refused here, before any lock: a payment of this invoice in flight, or one stored pending or paid.
    const prior = this.waiters.has(hashlock) ? "pending" : locks.paymentStatus(hashlock);
    if (prior === "pending" || prior === "paid") throw new InvoiceAlreadyPaidError(hashlock, prior);
    const waiter: Waiter = { resolve: () => undefined, reject: () => undefined, ...(routed ? { via: routed.via } : {}) };
    const done = new Promise<PaymentView>((resolve, reject) => Object.assign(waiter, { resolve, reject }));
    this.waiters.set(hashlock, waiter);
    try {
      // As participant 1 the lock exists once this node countersigns it: the record is written with
      // that state (onLocks). As participant 0 the peer holds it first: the record goes to disk before.
      if (session.me === 1) waiter.begin = begin;
      else await this.host.commits.apply(() => locks.beginPayment(begin));
      // The instruction and the lock leave back to back on the one connection: the hub reads the instruction first.
      const instructed = routed ? this.host.routing.instruct(routed.via, routed.body) : undefined;
      instructed?.catch(() => undefined);
      await session.updateLock({ kind: "lock", amount: lock.amount, hashlock, expiry: lock.expiry, ref: invoice.ref });
      await instructed;
    } catch (error) {
      if (this.waiters.get(hashlock) === waiter) this.waiters.delete(hashlock);
      const why = error instanceof Error ? error.message : String(error);
      const failed = () => {
        // Not begun yet (no lock countersigned): the attempt is recorded, failed.
        const stored = locks.paymentStatus(hashlock);
        if (stored === null || (stored === "failed" && waiter.begin)) locks.beginPayment(begin);
        return locks.finishPayment(hashlock, "failed", why);
      };
      await this.host.commits.apply(failed).catch((e: unknown) => this.host.onError(e, `recording the failure of ${hashlock}`));
      throw error;
    }
    return done;
  }

  /** This node's lock of a payment it makes as participant 1 is countersigned (queued for disk): its record shares that commit. */
  private begun(lock: Lock): void {
    const waiter = this.waiters.get(lock.hashlock.toLowerCase());
    const begin = waiter?.begin;
    if (!begin || begin.amount !== lock.amount) return;
    waiter.begin = undefined;
    const locks = this.host.store.locks;
    this.host.commits.apply(() => locks.beginPayment(begin)).catch((e: unknown) => this.host.onError(e, `recording the payment of ${begin.hashlock}`));
  }

  /** A direct payment's lock: as late as the rules allow, by the invoice's expiry at the latest. */
  private directExpiry(invoiceExpiry: bigint): bigint {
    const now = this.host.policy.clock();
    const earliest = now + this.host.policy.minLockWindow + EXPIRY_MARGIN;
    let expiry = now + this.host.policy.maxLockDuration - EXPIRY_MARGIN;
    if (invoiceExpiry < expiry) expiry = invoiceExpiry;
    if (expiry < earliest) {
      throw new InvoiceNotPayableError("expired", `the invoice expires at ${invoiceExpiry}, before a lock's reveal window ends (${earliest}): ask for one that lasts longer`);
    }
    return expiry;
  }

  /**
   * A state that added or removed locks is queued for disk (the records written here share its
   * commit): settles this node's invoice payments whose locks it removed, and answers the locks it
   * received, each once the state is on disk.
   */
  onLocks(session: ChannelSession, committed: CommittedUpdate): void {
    // Called inside the session's commit path: a failure here is reported, never thrown into it.
    try {
      this.handleLocks(session, committed);
    } catch (error) {
      this.host.onError(error, `handling the lock changes of ${session.id}`);
    }
  }

  private handleLocks(session: ChannelSession, committed: CommittedUpdate): void {
    const changes = committed.locks;
    if (!changes) return;
    for (const { lock, reason } of changes.removed) {
      if (lock.sender !== session.me) continue;
      if (reason === "unlock") this.paid(committed, lock);
      else this.failed(lock.hashlock, new InvoicePaymentFailedError(lock.hashlock, reason === "cancel" ? "cancelled" : "expired"));
    }
    for (const lock of changes.added) {
      if (lock.sender === session.me) this.begun(lock);
      else if (this.isMineToAnswer(session, lock)) void this.answer(session, lock);
    }
  }

  /** After a (re)connect: answers every pending lock the peer sent (e.g. left pending by a restart). */
  resolvePending(session: ChannelSession): void {
    for (const lock of session.locks) if (this.isMineToAnswer(session, lock)) void this.answer(session, lock);
  }

  /** A lock the peer sent that no hub forward takes: this node pays its invoice with it, or gives it back. */
  private isMineToAnswer(session: ChannelSession, lock: Lock): boolean {
    return lock.sender !== session.me && this.host.routing.forwards?.(session, lock) !== true;
  }

  /**
   * Drops this node's own locks past their expiry whose secret was not revealed on chain in time
   * (their payments fail with INVOICE_PAYMENT_FAILED once the expire is on disk).
   */
  expireDue(session: ChannelSession): void {
    const now = this.host.policy.clock();
    for (const lock of session.locks) {
      if (lock.sender !== session.me || now <= lock.expiry || this.host.policy.secretRevealedAt(lock.hashlock) !== 0n) continue;
      void this.once(lock, () => session.updateLock({ kind: "expire", lock }), `expiring lock ${lock.hashlock} of ${session.id}`);
    }
  }

  /** The open channel with the payee in the asset, if any. */
  private channelWith(payee: Address, asset: Address): ChannelSession | undefined {
    for (const session of this.host.openSessions()) {
      if (session.peerAddress.toLowerCase() === payee.toLowerCase() && session.params.asset.toLowerCase() === asset.toLowerCase()) return session;
    }
    return undefined;
  }

  private paid(committed: CommittedUpdate, lock: Lock): void {
    const receipt = committed.payments.find(({ payment: p }) => p.payer === lock.sender && p.amount === lock.amount && p.ref === lock.ref)?.payment;
    this.finish(lock.hashlock, "paid", undefined, (waiter, record) => {
      if (!receipt) return waiter.reject(new SluiceError(`the unlock of ${lock.hashlock} added no receipt`));
      waiter.resolve(paymentViewOf({ payment: receipt, version: committed.signed.state.version, committedAt: record?.finishedAt }));
    });
  }

  private failed(hashlock: Hex, error: InvoicePaymentFailedError): void {
    const waiter = this.waiters.get(hashlock.toLowerCase());
    // A routed lock came back: the failure its first hub relayed says where and why.
    const failure = waiter?.via === undefined ? undefined : this.host.routing.failures.take(hashlock, waiter.via);
    const reason = failure ? new RouteFailedError(hashlock, failure.hop, failure.code, failure.reason) : error;
    this.finish(hashlock, "failed", reason.message, (w) => w.reject(reason));
  }

  /** Records how this node's payment of `hashlock` ended (with the next group commit), then settles its caller, if any. */
  private finish(hashlock: Hex, status: "paid" | "failed", error: string | undefined, settle: (waiter: Waiter, record: InvoicePaymentRecord | null) => void): void {
    const key = hashlock.toLowerCase();
    const waiter = this.waiters.get(key);
    this.waiters.delete(key);
    const locks = this.host.store.locks;
    this.host.commits.apply(() => locks.finishPayment(hashlock, status, error)).then(
      (record) => waiter && settle(waiter, record),
      (e: unknown) => (waiter ? waiter.reject(e) : this.host.onError(e, `recording the payment of ${hashlock}`)),
    );
  }

  /**
   * The payee's side: unlocks a received lock that pays an invoice of this node, gives back any
   * other; the answer leaves once the invoice's record (and the lock's state, queued before) is on disk.
   */
  private answer(session: ChannelSession, lock: Lock): Promise<void> {
    return this.once(
      lock,
      async () => {
        const secret = await this.host.commits.apply(() => this.secretFor(session, lock));
        return session.updateLock(secret === undefined ? { kind: "cancel", lock } : { kind: "unlock", lock, secret });
      },
      `answering lock ${lock.hashlock} of ${session.id}`,
    );
  }

  /** Runs one update of `lock` unless one is running; a failure is reported and retried later (next connection or round). */
  private once(lock: Lock, work: () => Promise<unknown>, what: string): Promise<void> {
    return onceAtATime(this.handling, lockLeafHex(lock), work, (error, text) => this.host.onError(error, text), what);
  }

  /**
   * The secret to unlock `lock` with: that of an open invoice of this node it pays (marked paid
   * now, in the caller's group commit), or of one it paid before a restart cut the unlock short;
   * undefined to cancel it.
   */
  private secretFor(session: ChannelSession, lock: Lock): Hex | undefined {
    const invoices = this.host.store.invoices;
    const record = invoices.byHashlock(lock.hashlock);
    if (record === null || record.invoice.asset.toLowerCase() !== session.params.asset.toLowerCase()) return undefined;
    const store = this.host.store;
    if (record.status === "paid") {
      // Paid by this very lock (a restart cut its unlock short); any other lock for it is given back.
      const claim = store.locks.claimOf(lock.hashlock);
      const mine = claim !== null && claim.channelId === session.id.toLowerCase() && claim.leaf === lockLeafHex(lock);
      return mine ? (invoices.secret(lock.hashlock) ?? undefined) : undefined;
    }
    try {
      const { secret } = invoices.markPaid(lock.hashlock, lock.amount);
      store.locks.claim(lock.hashlock, session.id, lock);
      return secret;
    } catch (error) {
      if (error instanceof InvoiceUnderpaidError || error instanceof InvoiceStatusError || error instanceof UnknownInvoiceError) return undefined;
      throw error;
    }
  }
}
