/**
 * Routing as the node wires it, in one object: the hub (routing on), the payer's route finder,
 * the failures peers sent back, the peer messages' handlers (`route`, `route-failed`,
 * `hub-info`) and what the API shows (`NodeInfo.hub`, `GET /v1/forwards`).
 */
import type { CommittedUpdate, LockPolicy } from "../../channel";
import type { Address, Hex, Lock } from "../../types";
import type { DecodedInvoiceView, ForwardsQuery, ForwardView, HubView } from "../api/types";
import type { InvoicePayerHost } from "../invoicePayer";
import { decodeHubInfo, encodeHubInfo, type HubInfo, type PeerMessages } from "../protocol";
import { PeerOfflineError, type ChannelSession } from "../session";
import type { ChannelStore } from "../store";
import type { PeerConnection } from "../transport";
import { NotAHubError } from "./errors";
import { RouteFailures } from "./failures";
import { RouteFinder } from "./finder";
import { Hub, type HubHost } from "./hub";
import { HubInfoCache } from "./hubInfoCache";
import type { HubFees } from "./rules";
import { forwardViewOf } from "./views";

export interface RoutingHost {
  store: ChannelStore;
  commits: HubHost["commits"];
  address: Address;
  policy: LockPolicy;
  /** Routing on, with these fees; undefined: this node only pays through hubs. */
  fees?: HubFees;
  /** Kept from each edge of a payer's lock window (the peers' clocks may be a little ahead). */
  margin: bigint;
  /** The channels open now (their peer connected or not). */
  openSessions(): ChannelSession[];
  session(channelId: Hex): ChannelSession | undefined;
  /** The open connection with `peer`, if any. */
  connection(peer: Address): PeerConnection<PeerMessages> | undefined;
  decode(text: string): Promise<DecodedInvoiceView>;
  onError(error: unknown, what: string): void;
}

type RoutingMessages = Pick<PeerMessages, "route" | "route-failed" | "hub-info">;

/** How long a hub's own answer to `hub-info` is reused (ms): its capacities move with every payment anyway. */
const OWN_INFO_MS = 200;

export class Routing {
  private readonly failures = new RouteFailures();
  private readonly hubInfos = new HubInfoCache();
  private readonly hub: Hub | undefined;
  private ownInfoKept: { at: number; body: Record<string, unknown> } | undefined;
  /** What the invoice payer needs to pay through hubs. */
  readonly payer: InvoicePayerHost["routing"];

  constructor(private readonly host: RoutingHost) {
    if (host.fees) {
      this.hub = new Hub({
        store: host.store,
        commits: host.commits,
        address: host.address,
        fees: host.fees,
        policy: host.policy,
        openSessions: () => host.openSessions(),
        session: (id) => host.session(id),
        request: (peer, type, body) => this.request(peer, type, body),
        failures: this.failures,
        onError: (error, what) => host.onError(error, what),
      });
    }
    const hub = this.hub;
    this.payer = {
      finder: new RouteFinder({ openSessions: () => host.openSessions(), hubInfo: (peer, via, fresh) => this.hubInfo(peer, via, fresh), policy: host.policy, margin: host.margin }),
      failures: this.failures,
      instruct: (peer, body) =>
        this.request(peer, "route", body).catch((error: unknown) => {
          this.hubInfos.forget(peer);
          throw error;
        }),
      ...(hub ? { forwards: (session: ChannelSession, lock: Lock) => hub.takes(session, lock) } : {}),
    };
  }

  /** The handlers of the routing messages (the transport decoded their bodies). */
  readonly handlers: { [K in keyof RoutingMessages]: (body: RoutingMessages[K], peer: PeerConnection<PeerMessages>) => unknown } = {
    route: (body, peer) => {
      if (!this.hub) throw new NotAHubError(this.host.address);
      this.hub.onRoute(body, peer.peerAddress);
      return {};
    },
    "route-failed": (body, peer) => {
      this.failures.note(body, peer.peerAddress);
      this.hubInfos.forget(peer.peerAddress);
      return {};
    },
    "hub-info": (body) => this.hubInfoReply(body.via),
  };

  /** A state that changed locks is on disk (after the invoice payer saw it). */
  onLocks(session: ChannelSession, committed: CommittedUpdate): void {
    this.hub?.onLocks(session, committed);
  }

  /** `session` reconnected and synced: the hub resumes its forwards through it. */
  resume(session: ChannelSession): void {
    this.hub?.resume(session);
  }

  /** A secret registered on chain that this node keeps: the hub unlocks upstream what it pays. */
  onSecret(hashlock: Hex): void {
    this.hub?.onSecret(hashlock);
  }

  /** `NodeInfo.hub`: routing on, its fees, the forwards settled and pending, the fees earned. */
  hubView(): HubView | undefined {
    const fees = this.host.fees;
    if (!fees) return undefined;
    const totals = this.host.store.forwards.totals();
    return { fees: { base: fees.base, ppm: fees.ppm }, forwarded: totals.settled, pending: totals.pending, feesEarned: totals.feesEarned };
  }

  forwards(query: ForwardsQuery): ForwardView[] {
    return this.host.store.forwards.list(query).map(forwardViewOf);
  }

  /** Sends a request to a connected peer; PeerOfflineError if it is not connected. */
  private request(peer: Address, type: keyof RoutingMessages, body: unknown): Promise<unknown> {
    const connection = this.host.connection(peer);
    if (!connection?.isOpen) return Promise.reject(new PeerOfflineError(peer));
    return connection.request(type, body);
  }

  /** `peer`'s hub info, relayed through it to the hubs of `via`: a recent answer, or (none, or `fresh`) asked now. */
  private hubInfo(peer: Address, via: Address[], fresh = false): Promise<HubInfo> {
    if (fresh) this.hubInfos.forget(peer);
    return this.hubInfos.get(peer, via, () => this.askHubInfo(peer, via));
  }

  /** Asks `peer` for its hub info, relayed through it to the hubs of `via`. */
  private async askHubInfo(peer: Address, via: Address[]): Promise<HubInfo> {
    return decodeHubInfo(await this.request(peer, "hub-info", via.length === 0 ? {} : { via }));
  }

  /** Answers `hub-info`: this hub's, or the one of the next hub of `via` (asked through this one). */
  private async hubInfoReply(via: Address[] | undefined): Promise<Record<string, unknown>> {
    if (!this.hub) throw new NotAHubError(this.host.address);
    if (via === undefined || via.length === 0) return this.ownInfo();
    return encodeHubInfo(await this.askHubInfo(via[0], via.slice(1)));
  }

  /** This hub's info as sent: made at most once per OWN_INFO_MS (each payer asks about once a second, the hub has a channel to each). */
  private ownInfo(): Record<string, unknown> {
    const now = Date.now();
    if (this.ownInfoKept === undefined || now - this.ownInfoKept.at >= OWN_INFO_MS) this.ownInfoKept = { at: now, body: encodeHubInfo(this.hub!.info()) };
    return this.ownInfoKept.body;
  }
}
