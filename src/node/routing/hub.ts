/**
 * A hub's side of routed payments: keeps the route instructions peers send before their locks,
 * forwards each incoming lock that has one to the next hop (the forward on disk first), unlocks
 * upstream as soon as the secret comes back, and cancels upstream, telling why, when the lock
 * can't go on or comes back. A restart resumes every pending forward from the store.
 */
import type { CommittedUpdate, LockPolicy } from "../../channel";
import { DEFAULT_MAX_LOCK_DURATION, DEFAULT_MIN_LOCK_WINDOW } from "../../channel/lockDefaults";
import { lockLeafHex } from "../../crypto/hash";
import { SluiceError, codeOf } from "../../errors";
import type { Address, Hex, Lock } from "../../types";
import { readInvoice, type SignedInvoice } from "../../invoice";
import { encodeRoute, type HubInfo, type RouteBody, type RouteFailure } from "../protocol";
import type { CommitQueue } from "../commitQueue";
import type { ChannelSession } from "../session";
import type { ChannelStore } from "../store";
import type { ForwardRecord } from "../store/forwards";
import type { LockRemoval } from "../store/locks";
import { ConnectionClosedError, RequestTimeoutError } from "../transport";
import { ForwardCancelledError, ForwardInvoiceMismatchError, ForwardNoChannelError } from "./errors";
import type { RouteFailures } from "./failures";
import { onceAtATime } from "./once";
import { forwardTerms, type HubFees } from "./rules";

export interface HubHost {
  store: ChannelStore;
  /** The node's group commit: forwards are written with the states of their turn. */
  commits: Pick<CommitQueue, "forward" | "finishForward" | "apply">;
  address: Address;
  fees: HubFees;
  policy: Pick<LockPolicy, "clock" | "minLockWindow" | "maxLockDuration">;
  /** The channels that are open (whether their peer is connected or not). */
  openSessions(): Iterable<ChannelSession>;
  /** A channel of this node by id, or undefined. */
  session(channelId: Hex): ChannelSession | undefined;
  /** Sends a request to a connected peer (rejects if it is not connected). */
  request(peer: Address, type: "route" | "route-failed", body: unknown): Promise<unknown>;
  failures: RouteFailures;
  onError(error: unknown, what: string): void;
}

const GONE = { cancel: "the incoming lock was given back", expire: "the incoming lock expired" } as const;

/** Route instructions kept at most at once (each waits for its lock a short while). */
const MAX_INSTRUCTIONS = 10_000;
/** How long an instruction waits for its lock (ms). */
const INSTRUCTION_TTL_MS = 60_000;

interface Instruction {
  from: string;
  body: RouteBody;
  at: number;
}

export class Hub {
  private readonly instructions = new Map<string, Instruction>();
  /** Forwards being worked on now (by incoming leaf, or `f<id>`): one update at a time each. */
  private readonly handling = new Set<string>();
  /** Secrets that unlocked a forward's outgoing lock while its forwarding call still ran, by incoming key. */
  private readonly revealedMeanwhile = new Map<string, Hex>();
  /** Channels synced with their peer since this process started: their pending locks are known. */
  private readonly synced = new Set<string>();

  constructor(private readonly host: HubHost) {}

  /** This hub's fees, its lock rules and, per open channel with a connected peer, what it can lock to that peer now. */
  info(): HubInfo {
    const peers: HubInfo["peers"] = [];
    for (const session of this.host.openSessions()) {
      if (!session.isConnected) continue;
      peers.push({ peer: session.peerAddress.toLowerCase() as Address, asset: session.params.asset.toLowerCase() as Address, capacity: session.payouts[session.me] });
    }
    // Only rules other than the defaults are published: a payer takes the defaults for a hub that says none (older payers know no more).
    const { minLockWindow, maxLockDuration } = this.host.policy;
    return {
      address: this.host.address,
      fees: this.host.fees,
      peers,
      ...(minLockWindow === DEFAULT_MIN_LOCK_WINDOW ? {} : { lockWindow: minLockWindow }),
      ...(maxLockDuration === DEFAULT_MAX_LOCK_DURATION ? {} : { maxLockDuration }),
    };
  }

  /** A peer's route instruction for a lock it is about to send. */
  onRoute(body: RouteBody, from: Address): void {
    this.dropStale();
    if (this.instructions.size >= MAX_INSTRUCTIONS) throw new SluiceError("too many route instructions waiting for their locks: try again shortly");
    this.instructions.set(body.hashlock.toLowerCase(), { from: from.toLowerCase(), body, at: Date.now() });
  }

  /** True iff this hub handles the incoming `lock` (it has an instruction or a forward for it): the invoice payer leaves it alone. */
  takes(session: ChannelSession, lock: Lock): boolean {
    if (lock.sender === session.me) return false;
    const instruction = this.instructions.get(lock.hashlock.toLowerCase());
    if (instruction?.from === session.peerAddress.toLowerCase()) return true;
    return this.host.store.forwards.byIncoming(session.id, lockLeafHex(lock)) !== null;
  }

  /**
   * A state that changed locks is queued for disk (the forwards written now share its commit):
   * forwards new incoming locks, ends the forwards whose incoming lock left, and answers upstream
   * for the outgoing locks removed once the state is on disk.
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
    const forwards = this.host.store.forwards;
    const answered: { forward: ForwardRecord; reason: LockRemoval }[] = [];
    for (const { lock, reason, secret } of changes.removed) {
      if (lock.sender === session.me) {
        const forward = forwards.byOutgoing(session.id, lockLeafHex(lock));
        if (forward?.status !== "pending") continue;
        // Unlocked with the secret: upstream is unlocked now (revealing it there costs this hub nothing,
        // and the upstream state reaches this disk after this one). A lock given back waits for the disk.
        if (reason === "unlock" && secret !== undefined) this.resolve(forward, reason, secret);
        else answered.push({ forward, reason });
      } else {
        // The incoming lock is settled (unlocked upstream) or gone: the forward ends with it.
        const forward = forwards.byIncoming(session.id, lockLeafHex(lock));
        if (forward?.status === "pending") this.endWithIncoming(forward, reason);
      }
    }
    if (answered.length > 0) {
      this.stored().then(
        () => answered.forEach(({ forward, reason }) => this.resolve(forward, reason)),
        (error: unknown) => this.host.onError(error, "storing a state that removed forwarded locks"),
      );
    }
    for (const lock of changes.added) if (lock.sender !== session.me && this.takes(session, lock)) this.startForward(session, lock);
  }

  /** After `session` (re)connected and synced: forwards its instructed locks, resumes the pending forwards through it. */
  resume(session: ChannelSession): void {
    this.synced.add(session.id.toLowerCase());
    for (const lock of session.locks) if (lock.sender !== session.me && this.takes(session, lock)) this.startForward(session, lock);
    const id = session.id.toLowerCase();
    for (const forward of this.host.store.forwards.pending()) {
      if (forward.inChannel === id || forward.outChannel === id) this.resolve(forward);
    }
  }

  /** A secret learned from the chain (the next hop registered it, e.g. while this hub was down): unlocks upstream the pending forwards it pays. */
  onSecret(hashlock: Hex): void {
    const key = hashlock.toLowerCase();
    for (const forward of this.host.store.forwards.pending()) if (forward.hashlock.toLowerCase() === key) this.resolve(forward);
  }

  /** `forward` in the background: a failure it can't answer upstream (the store failing its commit) is reported, never left unhandled. */
  private startForward(inSession: ChannelSession, lock: Lock): void {
    this.forward(inSession, lock).catch((error: unknown) => this.host.onError(error, `forwarding the lock of ${lock.hashlock}`));
  }

  /** Forwards an incoming lock per its instruction, or refuses it (cancelled back upstream with why). */
  private async forward(inSession: ChannelSession, lock: Lock): Promise<void> {
    const leaf = lockLeafHex(lock);
    const known = this.host.store.forwards.byIncoming(inSession.id, leaf);
    if (known) return this.resolve(known);
    const key = incomingKey(inSession.id, leaf);
    if (this.handling.has(key)) return;
    this.handling.add(key);
    try {
      const hashlock = lock.hashlock.toLowerCase();
      const instruction = this.instructions.get(hashlock);
      if (instruction?.from !== inSession.peerAddress.toLowerCase()) return;
      this.instructions.delete(hashlock);
      let forward: ForwardRecord | undefined;
      try {
        forward = await this.prepare(inSession, lock, instruction);
        const { body } = instruction;
        if (body.hops.length > 1) await this.host.request(forward.nextHop, "route", encodeRoute({ ...body, hops: body.hops.slice(1) }));
        const out = this.host.session(forward.outChannel)!;
        await out.updateLock({ kind: "lock", amount: forward.amountOut, hashlock: lock.hashlock, expiry: forward.outExpiry, ref: lock.ref });
      } catch (error) {
        // The incoming lock's state is on disk before anything goes back upstream.
        if (!forward) await this.stored();
        // A lock that may have reached the next hop is waited for (a resync tells); any other failure goes back upstream.
        const out = forward && this.host.session(forward.outChannel);
        const mayExist = out !== undefined && (out.pendingLock(forward!.outLeaf) !== undefined || error instanceof ConnectionClosedError || error instanceof RequestTimeoutError);
        if (mayExist) return this.host.onError(error, `forwarding the lock of ${hashlock}`);
        const failure = failureOf(lock.hashlock, this.host.address, error);
        if (forward) await this.host.commits.finishForward(forward.id, "cancelled", `${failure.code}: ${failure.reason}`);
        await this.refuse(inSession, lock, failure);
      }
    } finally {
      this.handling.delete(key);
    }
    // The outgoing lock may have been answered while this call ran (resolve waits for it): look again.
    const revealed = this.revealedMeanwhile.get(key);
    this.revealedMeanwhile.delete(key);
    if (revealed === undefined && this.host.store.locks.secret(lock.hashlock) === null) return;
    const after = this.host.store.forwards.byIncoming(inSession.id, leaf);
    if (after?.status === "pending") this.resolve(after, revealed === undefined ? undefined : "unlock", revealed);
  }

  /** Checks the forwarding rules and writes the forward (pending) before anything goes downstream. */
  private async prepare(inSession: ChannelSession, lock: Lock, { body }: Instruction): Promise<ForwardRecord> {
    const hop = body.hops[0];
    const asset = inSession.params.asset.toLowerCase() as Address;
    const out = this.channelTo(hop.next, asset);
    const now = this.host.policy.clock();
    const terms = forwardTerms({ amountIn: lock.amount, expiryIn: lock.expiry, hop, fees: this.host.fees, now, revealWindow: this.host.policy.minLockWindow });
    if (body.hops.length === 1) checkInvoice(readInvoice(body.invoice), hop.next, hop.amount, asset, lock.hashlock);
    const outLock: Lock = { channelId: out.id, sender: out.me, amount: terms.amountOut, hashlock: lock.hashlock, expiry: terms.expiryOut, ref: lock.ref };
    // The stored row: a retry after a restart finds the one written before.
    return this.host.commits.forward({
      hashlock: lock.hashlock,
      asset,
      inChannel: inSession.id,
      inLeaf: lockLeafHex(lock),
      outChannel: out.id,
      outLeaf: lockLeafHex(outLock),
      nextHop: hop.next,
      amountIn: lock.amount,
      amountOut: terms.amountOut,
      fee: terms.fee,
      outExpiry: terms.expiryOut,
    });
  }

  /** The open channel with `peer` in `asset`, its peer connected. */
  private channelTo(peer: Address, asset: Address): ChannelSession {
    let offline = false;
    for (const session of this.host.openSessions()) {
      if (session.peerAddress.toLowerCase() !== peer.toLowerCase() || session.params.asset.toLowerCase() !== asset) continue;
      if (session.isConnected) return session;
      offline = true;
    }
    throw new ForwardNoChannelError(peer, asset, offline ? "offline" : "none");
  }

  /**
   * Answers upstream for a pending forward: the secret known → unlock upstream; the outgoing lock
   * gone without it (or never made, once the channel synced) → cancel upstream; else wait.
   */
  private resolve(forward: ForwardRecord, removal?: LockRemoval, revealed?: Hex): void {
    // Still being forwarded (its outgoing lock in flight): that call decides (with the secret, if one came).
    const key = incomingKey(forward.inChannel, forward.inLeaf);
    if (this.handling.has(key)) {
      if (revealed !== undefined) this.revealedMeanwhile.set(key, revealed);
      return;
    }
    const inSession = this.host.session(forward.inChannel);
    const inLock = inSession?.pendingLock(forward.inLeaf);
    if (!inSession || !inLock) {
      // Gone from the synced channel: its stored removal says how (a crash may have cut the forward's finish short).
      if (inSession && this.synced.has(forward.inChannel)) {
        this.endWithIncoming(forward, this.host.store.locks.removalOf(forward.inChannel, forward.inLeaf));
      }
      return;
    }
    const secret = revealed ?? this.host.store.locks.secret(forward.hashlock);
    if (secret !== null) {
      void this.once(forward, () => inSession.updateLock({ kind: "unlock", lock: inLock, secret }), `unlocking upstream ${forward.hashlock}`);
      return;
    }
    const out = this.host.session(forward.outChannel);
    if (removal === undefined) {
      if (out === undefined || !this.synced.has(forward.outChannel) || out.pendingLock(forward.outLeaf) !== undefined) return;
    }
    const failure = this.host.failures.take(forward.hashlock, forward.nextHop) ?? failureOf(forward.hashlock, forward.nextHop, new ForwardCancelledError(forward.nextHop, removal === undefined || removal === "unlock" ? "missing" : removal));
    void this.once(forward, () => this.refuse(inSession, inLock, failure), `cancelling upstream ${forward.hashlock}`);
  }

  /** Tells the upstream peer why (its answer is not waited for long), then gives the lock back. */
  private async refuse(inSession: ChannelSession, lock: Lock, failure: RouteFailure): Promise<void> {
    await this.host.request(inSession.peerAddress, "route-failed", failure).catch(() => undefined);
    await inSession.updateLock({ kind: "cancel", lock });
  }

  /** Ends a forward as its incoming lock left the channel: unlocked upstream → settled, else cancelled with why. */
  private endWithIncoming(forward: ForwardRecord, removal: LockRemoval | null): void {
    if (removal === "unlock") this.finish(forward, "settled");
    else this.finish(forward, "cancelled", removal === null ? "the incoming lock is gone" : GONE[removal]);
  }

  /** Ends a forward with the next group commit (its incoming lock's state is on disk already). */
  private finish(forward: ForwardRecord, status: "settled" | "cancelled", error?: string): void {
    this.host.commits.finishForward(forward.id, status, error).catch((e: unknown) => this.host.onError(e, `ending the forward of ${forward.hashlock}`));
  }

  /** Settles once what is queued for disk now (a state `onLocks` was called with) is on disk. */
  private stored(): Promise<unknown> {
    return this.host.commits.apply(() => undefined);
  }

  private once(forward: ForwardRecord, work: () => Promise<unknown>, what: string): Promise<void> {
    return onceAtATime(this.handling, `f${forward.id}`, work, (error, text) => this.host.onError(error, text), what);
  }

  private dropStale(): void {
    const cutoff = Date.now() - INSTRUCTION_TTL_MS;
    for (const [hashlock, { at }] of this.instructions) {
      if (at >= cutoff) break;
      this.instructions.delete(hashlock);
    }
  }
}

/** The last hop pays the invoice: its payee, hashlock and asset, and at least its amount. */
function checkInvoice(invoice: SignedInvoice, next: Address, amount: bigint, asset: Address, hashlock: Hex): void {
  if (invoice.payee.toLowerCase() !== next.toLowerCase()) throw new ForwardInvoiceMismatchError(`the invoice's payee is ${invoice.payee}, not ${next}`);
  if (invoice.hashlock.toLowerCase() !== hashlock.toLowerCase()) throw new ForwardInvoiceMismatchError("the invoice's hashlock is not the lock's");
  if (invoice.asset.toLowerCase() !== asset) throw new ForwardInvoiceMismatchError(`the invoice is in asset ${invoice.asset}, the lock in ${asset}`);
  if (amount < invoice.amount) throw new ForwardInvoiceMismatchError(`${amount} to forward is less than the invoice's ${invoice.amount}`);
}

const incomingKey = (channelId: Hex, leaf: Hex) => `${channelId.toLowerCase()}:${leaf.toLowerCase()}`;

/** The failure message of `error` at `hop`. */
export function failureOf(hashlock: Hex, hop: Address, error: unknown): RouteFailure {
  const code = error instanceof SluiceError ? codeOf(error) : "INTERNAL";
  const reason = error instanceof Error ? error.message : String(error);
  return { hashlock: hashlock.toLowerCase() as Hex, hop: hop.toLowerCase() as Address, code, reason: reason.slice(0, 1024) };
}
