/**
 * A payer's side of routed payments: finds a route to an invoice's payee through hubs (the
 * connected peers that answer `hub-info` and reach the payee with enough to send, lowest fee
 * first) or takes an explicit one of up to MAX_ROUTE_HOPS hubs (asking each its fees through the
 * first; the hubs check the rest), and plans its amounts and expiry.
 */
import type { LockPolicy } from "../../channel";
import { DEFAULT_MAX_LOCK_DURATION, DEFAULT_MIN_LOCK_WINDOW } from "../../channel/lockDefaults";
import type { Invoice } from "../../invoice/types";
import type { Address } from "../../types";
import { MAX_ROUTE_HOPS } from "../../schema/peer";
import type { HubInfo, RouteBody } from "../protocol";
import type { ChannelSession } from "../session";
import { NoRouteError, RouteTooLongError } from "./errors";
import { planRoute, type RoutePlan } from "./rules";

export interface RouteFinderHost {
  /** The open channels (whether their peer is connected or not). */
  openSessions(): Iterable<ChannelSession>;
  /** Asks the connected `peer` for its hub info, relayed to the hubs of `via` in turn (a recent answer will do unless `fresh`). */
  hubInfo(peer: Address, via: Address[], fresh?: boolean): Promise<HubInfo>;
  policy: Pick<LockPolicy, "clock" | "minLockWindow" | "maxLockDuration">;
  /** Kept from each edge of a lock's window (the peers' clocks may be a little ahead). */
  margin: bigint;
}

/** A route to pay: the channel to lock in, the lock, and the first hub's instruction. */
export interface Route {
  session: ChannelSession;
  plan: RoutePlan;
  body: RouteBody;
  /** The hubs crossed, in order. */
  hubs: Address[];
}

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

export class RouteFinder {
  constructor(private readonly host: RouteFinderHost) {}

  /** The route through `hubs` (explicit) or, without, the cheapest one through a connected hub. */
  async find(invoice: Invoice, encoded: string, hubs?: readonly Address[]): Promise<Route> {
    if (hubs !== undefined) return this.explicit(invoice, encoded, hubs);
    // A recent answer first; none reaching the payee, the hubs are asked afresh (a peer of theirs may have just come back).
    const route = (await this.cheapest(invoice, encoded, false)) ?? (await this.cheapest(invoice, encoded, true));
    if (!route) throw new NoRouteError(invoice.payee, invoice.asset, "no open channel with the payee, and no connected hub reaches it with enough to send");
    return route;
  }

  /** The cheapest route through one connected hub, from the hubs' recent answers or (`fresh`) new ones; undefined if none. */
  private async cheapest(invoice: Invoice, encoded: string, fresh: boolean): Promise<Route | undefined> {
    const candidates: Route[] = [];
    const asked = await Promise.allSettled(
      this.connectedIn(invoice.asset)
        .filter((session) => !same(session.peerAddress, invoice.payee))
        .map(async (session) => ({ session, info: await this.host.hubInfo(session.peerAddress, [], fresh) })),
    );
    for (const answer of asked) {
      if (answer.status !== "fulfilled") continue;
      const { session, info } = answer.value;
      if (!same(info.address, session.peerAddress) || !reaches(info, invoice.payee, invoice.asset, invoice.amount)) continue;
      const route = this.routeOf(session, invoice, encoded, [info]);
      if (route && session.payouts[session.me] >= route.plan.amount) candidates.push(route);
    }
    candidates.sort((a, b) => (a.plan.fees < b.plan.fees ? -1 : a.plan.fees > b.plan.fees ? 1 : 0));
    return candidates[0];
  }

  private async explicit(invoice: Invoice, encoded: string, hubs: readonly Address[]): Promise<Route> {
    if (hubs.length > MAX_ROUTE_HOPS) throw new RouteTooLongError(hubs.length, MAX_ROUTE_HOPS);
    if (hubs.length === 0) throw new NoRouteError(invoice.payee, invoice.asset, "the route names no hub");
    const session = this.connectedIn(invoice.asset).find((s) => same(s.peerAddress, hubs[0]));
    if (!session) throw new NoRouteError(invoice.payee, invoice.asset, `no open channel with a connected ${hubs[0]} in that asset`);
    const infos: HubInfo[] = [];
    for (let i = 0; i < hubs.length; i++) {
      let info: HubInfo;
      try {
        info = await this.host.hubInfo(hubs[0], hubs.slice(1, i + 1));
      } catch (error) {
        throw new NoRouteError(invoice.payee, invoice.asset, `hub ${hubs[i]} did not answer: ${error instanceof Error ? error.message : String(error)}`);
      }
      // A relayed answer is the relaying hub's word: one in another hub's name is refused.
      if (!same(info.address, hubs[i])) throw new NoRouteError(invoice.payee, invoice.asset, `the answer for hub ${hubs[i]} came in the name of ${info.address}`);
      infos.push(info);
    }
    // The hubs check the rest (each reaches the next, can afford it): a hop that can't answers ROUTE_FAILED.
    const route = this.routeOf(session, invoice, encoded, infos);
    if (!route) throw new NoRouteError(invoice.payee, invoice.asset, `the invoice expires too soon for a lock window per hop (${hubs.length + 1} hops)`);
    return route;
  }

  private routeOf(session: ChannelSession, invoice: Invoice, encoded: string, infos: HubInfo[]): Route | undefined {
    const policy = this.host.policy;
    const plan = planRoute({
      // A hub that publishes no lock rules (an older one, or one with the defaults) has the defaults.
      hubs: infos.map((info) => ({ ...info, lockWindow: info.lockWindow ?? DEFAULT_MIN_LOCK_WINDOW, maxLockDuration: info.maxLockDuration ?? DEFAULT_MAX_LOCK_DURATION })),
      payee: invoice.payee,
      amount: invoice.amount,
      invoiceExpiry: invoice.expiry,
      now: policy.clock(),
      revealWindow: policy.minLockWindow,
      maxLockDuration: policy.maxLockDuration,
      margin: this.host.margin,
    });
    if (!plan) return undefined;
    return { session, plan, body: { hashlock: invoice.hashlock, invoice: encoded, hops: plan.hops }, hubs: infos.map((info) => info.address) };
  }

  private connectedIn(asset: Address): ChannelSession[] {
    return [...this.host.openSessions()].filter((s) => s.isConnected && same(s.params.asset, asset));
  }
}

/** True iff the hub lists `peer` in `asset` with at least `amount` to send. */
function reaches(info: HubInfo, peer: Address, asset: Address, amount: bigint): boolean {
  return info.peers.some((p) => same(p.peer, peer) && same(p.asset, asset) && p.capacity >= amount);
}
