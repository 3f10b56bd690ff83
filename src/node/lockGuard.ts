/**
 * Keeps every pending lock of this node safe on chain, whatever made it (an invoice paid over a
 * direct channel, a forward through a hub): the rules need only the store's pending locks and the
 * secrets it knows.
 * - A lock this node RECEIVES, whose secret it knows, and which the peer has not unlocked by
 *   `expiry - revealWindow` (or whose channel can no longer change off chain: disputed, settled):
 *   the secret is registered on chain (`registerSecret`, bid harder near the expiry) and the
 *   channel disputed with the latest countersigned state, which holds the lock.
 * - A channel settled with amounts held back: each lock of the state it settled on that pays this
 *   node is resolved (`resolveLock` with its Merkle proof): as receiver once the secret was
 *   registered by the expiry (paid), as sender after the expiry otherwise (refunded).
 * The chain is the memory of what was sent: a secret registered (`secretRevealedAt`), a channel
 * disputed (its mode), a lock resolved (`lockResolved`, the confirmed `LockResolved` events in the
 * store). A transaction in flight is not sent again; one that a reorg takes away is.
 */
import type { AdjudicatorDriver, AdjudicatorEvent, LockResolvedEvent, SettledEvent } from "../chain";
import { DEFAULT_MIN_LOCK_WINDOW } from "../channel/updates";
import { LocksRootMismatchError } from "../channel/errors";
import { lockLeafHex } from "../crypto/hash";
import { LocksTree } from "../merkle/locks";
import { ChainResponseError, LockAlreadyResolvedError, SecretAlreadyRevealedError } from "../chain/errors";
import type { Hex, Lock, Params, State } from "../types";
import type { ChannelStore } from "./store";
import type { LockSettlement } from "./store/lockSettlements";

/**
 * How long before a received lock's expiry its secret goes on chain when the peer has not unlocked
 * it: the lock policy's reveal window (a new lock expires at least that long after it is made).
 */
export const DEFAULT_REVEAL_WINDOW = DEFAULT_MIN_LOCK_WINDOW;

/** Who a settled lock pays: its receiver (`paid`, its secret registered by its expiry) or its sender (`refunded`). */
export type LockOutcome = "paid" | "refunded";

/** A lock to register the secret of, with that secret. */
export interface DueRegistration {
  lock: Lock;
  secret: Hex;
}

// ------------------------------------------------------------------ the rules (pure)

/**
 * The locks of `locks` whose secret must go on chain now: received by `me`, secret known, not yet
 * expired, and either in the last `revealWindow` before their expiry or in a channel that can no
 * longer change off chain (`offChain` false: the peer can't unlock any more).
 */
export function registrationsDue(
  locks: readonly Lock[],
  me: 0 | 1,
  now: bigint,
  options: { revealWindow: bigint; offChain: boolean; secretOf: (lock: Lock) => Hex | undefined },
): DueRegistration[] {
  const due: DueRegistration[] = [];
  for (const lock of locks) {
    if (lock.sender === me || now > lock.expiry) continue;
    if (options.offChain && now < lock.expiry - options.revealWindow) continue;
    const secret = options.secretOf(lock);
    if (secret !== undefined) due.push({ lock, secret });
  }
  return due;
}

/**
 * Who a lock of a settled channel pays, as `resolveLock` decides: undefined while undecided (no
 * secret registered in time yet, and not expired).
 */
export function outcomeOf(lock: Lock, revealedAt: bigint, now: bigint): LockOutcome | undefined {
  if (revealedAt !== 0n && revealedAt <= lock.expiry) return "paid";
  return now > lock.expiry ? "refunded" : undefined;
}

/** Whether that outcome pays participant `me`. */
export function paysMe(lock: Lock, me: 0 | 1, outcome: LockOutcome): boolean {
  return outcome === "paid" ? lock.sender !== me : lock.sender === me;
}

// ------------------------------------------------------------------ the guard

/** One of this node's channels, as the guard sees it. */
export interface GuardedChannel {
  id: Hex;
  params: Params;
  me: 0 | 1;
  /** The pending locks of this node's latest countersigned state. */
  locks: readonly Lock[];
  /** Whether its state can still change off chain (open: no dispute, not concluded). */
  offChain: boolean;
}

export interface LockGuardHost {
  store: ChannelStore;
  driver: AdjudicatorDriver;
  /** The channels not concluded. */
  live(): Iterable<GuardedChannel>;
  /** Any channel of this node (concluded ones too), or undefined. */
  channel(channelId: Hex): Pick<GuardedChannel, "params" | "me"> | undefined;
  /** Disputes the channel with this node's latest countersigned state. */
  dispute(channelId: Hex): Promise<unknown>;
  /** The lock rules' clock: max(wall clock, latest block), unix seconds. */
  clock(): bigint;
  /**
   * When each secret was registered on chain, by lower-case hashlock (shared with the lock rules;
   * the node adds the `SecretRevealed` events it reads).
   */
  reveals: Map<string, bigint>;
  onError(error: unknown, what: string): void;
}

export interface LockGuardOptions {
  /** Default DEFAULT_REVEAL_WINDOW; the node passes its lock policy's `minLockWindow`. */
  revealWindow?: bigint;
}

export class LockGuard {
  readonly revealWindow: bigint;
  /** Transactions sent and not yet mined (or failed), by what they do: none is sent twice at once. */
  private readonly inFlight = new Map<string, Promise<void>>();
  /** Hashlocks whose registration was read from the chain once (the events say the rest); cleared by a reorg. */
  private readonly checked = new Set<string>();

  constructor(
    private readonly host: LockGuardHost,
    options: LockGuardOptions = {},
  ) {
    this.revealWindow = options.revealWindow ?? DEFAULT_REVEAL_WINDOW;
  }

  /** Reads from the chain when the secrets of the live channels' pending locks were registered (events before the watcher's cursor are not read again). */
  async learnReveals(): Promise<void> {
    for (const channel of this.host.live()) for (const lock of channel.locks) await this.revealedAt(lock.hashlock);
  }

  /** One round: registers and disputes what is due, resolves the settled channels' locks. Each channel's failure is reported alone. */
  async round(): Promise<void> {
    const now = this.host.clock();
    for (const channel of this.host.live()) {
      await this.guard(channel, now).catch((error: unknown) => this.host.onError(error, `guarding the locks of ${channel.id}`));
    }
    for (const settlement of this.host.store.lockSettlements.open()) {
      await this.resolveSettled(settlement, now).catch((error: unknown) => this.host.onError(error, `resolving the locks of ${settlement.channelId}`));
    }
  }

  /**
   * A confirmed event of one of this node's channels: a settlement with amounts held back is kept
   * (with the registered state the watcher read, if it has it), a resolution recorded; and any
   * `SecretRevealed`: the secret of a lock of this node is kept (a hub that was offline while its
   * downstream peer registered it on chain claims its upstream lock with it).
   */
  onEvent(event: AdjudicatorEvent, registered: State | undefined): void {
    try {
      if (event.name === "Settled") this.settled(event, registered);
      if (event.name === "LockResolved") this.resolved(event);
      if (event.name === "SecretRevealed") this.learn(event.hashlock, event.secret);
    } catch (error) {
      // Reported, and the watcher hands the event on to the node all the same.
      this.host.onError(error, `keeping ${event.name} of ${"channelId" in event ? String(event.channelId) : "?"}`);
    }
  }

  /** A reorg: what was read of the registrations is read again (one may be gone). */
  onReorg(): void {
    this.checked.clear();
  }

  private settled(event: SettledEvent, registered: State | undefined): void {
    if (event.heldBack[0] === 0n && event.heldBack[1] === 0n) return;
    const store = this.host.store;
    store.transaction(() => {
      store.lockSettlements.settled(event.channelId, event.version);
      if (registered?.version === event.version) store.lockSettlements.putState(registered);
    });
  }

  private learn(hashlock: Hex, secret: Hex): void {
    const store = this.host.store;
    if (store.locks.secret(hashlock) === null && store.lockSettlements.hasLock(hashlock)) store.locks.putSecret(hashlock, secret);
  }

  private resolved(event: LockResolvedEvent): void {
    const store = this.host.store;
    const lock = store.lockSettlements.lock(event.channelId, event.leaf);
    const outcome: LockOutcome = lock !== undefined && event.paidTo === lock.sender ? "refunded" : "paid";
    store.transaction(() =>
      store.lockSettlements.resolved({
        channelId: event.channelId,
        leaf: event.leaf,
        hashlock: event.hashlock,
        paidTo: event.paidTo,
        outcome,
        amount: event.amount,
        txHash: event.transactionHash,
      }),
    );
  }

  /** A live channel: registers the due secrets, then disputes it while it is still open off chain. */
  private async guard(channel: GuardedChannel, now: bigint): Promise<void> {
    const due = registrationsDue(channel.locks, channel.me, now, {
      revealWindow: this.revealWindow,
      offChain: channel.offChain,
      secretOf: (lock) => this.secretOf(channel.id, lock),
    });
    if (due.length === 0) return;
    for (const registration of due) await this.register(channel.id, registration);
    if (channel.offChain) this.once(`dispute:${channel.id.toLowerCase()}`, `disputing ${channel.id}`, async () => void (await this.host.dispute(channel.id)));
  }

  /** Sends `registerSecret` unless the chain has it already (or it is in flight). */
  private async register(channelId: Hex, { lock, secret }: DueRegistration): Promise<void> {
    const hashlock = lock.hashlock.toLowerCase() as Hex;
    if ((await this.revealedAt(hashlock)) !== 0n) return;
    this.once(`register:${hashlock}`, `registering the secret of ${hashlock}`, async () => {
      const deadline = { at: lock.expiry, period: this.revealWindow };
      const result = await this.host.driver.registerSecret(secret, { deadline }).catch((error: unknown) => {
        // Registered meanwhile (by the peer, or by this node's transaction pending from before a restart).
        if (error instanceof SecretAlreadyRevealedError) return { revealedAt: error.args.revealedAt };
        throw error;
      });
      this.host.reveals.set(hashlock, result.revealedAt);
      if (!("hash" in result)) return;
      this.host.store.appendEvent("lock.registered", channelId, {
        hashlock,
        expiry: lock.expiry.toString(),
        revealedAt: result.revealedAt.toString(),
        txHash: result.hash,
      });
    });
  }

  /**
   * A settled channel: registers what is still due, resolves each undecided-no-more lock that pays
   * this node; once every lock is decided and each of this node's is resolved (or nothing is held
   * back any more for its sender), the settlement is done.
   */
  private async resolveSettled(settlement: LockSettlement, now: bigint): Promise<void> {
    const channel = this.host.channel(settlement.channelId);
    if (!channel) return;
    const store = this.host.store.lockSettlements;
    const state = settlement.state ?? (await this.settledState(settlement));
    const locks = store.pendingAt(settlement.channelId, settlement.version);
    const tree = new LocksTree(state.channelId, locks);
    // The store keeps every lock with the versions that added and removed it: only a state this node never stored misses.
    if (tree.root.toLowerCase() !== state.locksRoot.toLowerCase()) throw new LocksRootMismatchError(state.locksRoot, tree.root);
    const due = registrationsDue(locks, channel.me, now, { revealWindow: this.revealWindow, offChain: false, secretOf: (lock) => this.secretOf(settlement.channelId, lock) });
    for (const registration of due) await this.register(settlement.channelId, registration);
    const resolved = store.resolvedLeaves(settlement.channelId);
    let done = true;
    const owed: Lock[] = [];
    for (const lock of locks) {
      if (resolved.has(lockLeafHex(lock))) continue;
      const outcome = outcomeOf(lock, await this.revealedAt(lock.hashlock), now);
      if (outcome === undefined) done = false;
      else if (paysMe(lock, channel.me, outcome)) owed.push(lock);
    }
    // Read only when a lock is owed (a settlement may wait a long time for an expiry).
    const held = owed.length === 0 ? [0n, 0n] : await this.host.driver.heldBack(settlement.channelId);
    for (const lock of owed) {
      if (held[lock.sender] === 0n) continue;
      done = false;
      const leaf = lockLeafHex(lock);
      this.once(`resolve:${leaf}`, `resolving lock ${lock.hashlock} of ${settlement.channelId}`, async () => {
        // Resolved already, its event not confirmed yet: nothing to send.
        if (await this.host.driver.lockResolved(leaf)) return;
        await this.host.driver.resolveLock(channel.params, state, lock, tree.proof(lock).proof).catch((error: unknown) => {
          // Resolved by another transaction meanwhile: its event says so.
          if (!(error instanceof LockAlreadyResolvedError)) throw error;
        });
      });
    }
    if (done) store.done(settlement.channelId);
  }

  /** The state a channel settled on, from its `Challenged` event of that version (kept in the store). */
  private async settledState(settlement: LockSettlement): Promise<State> {
    const events = await this.host.driver.events({ channelId: settlement.channelId, names: ["Challenged"] });
    const state = events.flatMap((e) => (e.name === "Challenged" && e.state.version === settlement.version ? [e.state] : [])).at(-1);
    if (state === undefined) throw new ChainResponseError(`no Challenged event of channel ${settlement.channelId} at version ${settlement.version}`);
    this.host.store.lockSettlements.putState(state);
    return state;
  }

  /**
   * The secret of a lock this node received: one it learned (an unlocked lock's, or downstream's
   * through a hub), or its own invoice's when this very lock paid the invoice.
   */
  private secretOf(channelId: Hex, lock: Lock): Hex | undefined {
    const locks = this.host.store.locks;
    const learned = locks.secret(lock.hashlock);
    if (learned !== null) return learned;
    const claim = locks.claimOf(lock.hashlock);
    if (claim === null || claim.channelId !== channelId.toLowerCase() || claim.leaf !== lockLeafHex(lock)) return undefined;
    return this.host.store.invoices.secret(lock.hashlock) ?? undefined;
  }

  /** When the secret of `hashlock` was registered (0n: not yet): read from the chain once per hashlock (again after a reorg), then kept by the events. */
  private async revealedAt(hashlock: Hex): Promise<bigint> {
    const key = hashlock.toLowerCase();
    if (!this.checked.has(key)) {
      const at = await this.host.driver.secretRevealedAt(hashlock);
      this.checked.add(key);
      if (at === 0n) this.host.reveals.delete(key);
      else this.host.reveals.set(key, at);
    }
    return this.host.reveals.get(key) ?? 0n;
  }

  /** Runs `work` unless work under the same key is in flight; a failure is reported (the next round tries again). */
  private once(key: string, what: string, work: () => Promise<void>): void {
    if (this.inFlight.has(key)) return;
    const running = work()
      .catch((error: unknown) => this.host.onError(error, what))
      .finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, running);
  }
}
