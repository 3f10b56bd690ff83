/**
 * The node's metrics in Prometheus text format (`GET /metrics`): one registry per node (tests run
 * several nodes in one process), fed from outside the payment path where it can be: the event
 * log (payments: read at scrape time, the events since the last scrape in one go), the group
 * commits' observer, the chain driver's calls, and gauges read at scrape time (channels, peers,
 * locks, the chain endpoint, a module's own gauges).
 *
 * Amounts are float64 in Prometheus: above 2^53 base units they lose precision. They are for
 * monitoring, never for accounting (the store and `payments` are exact).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { Hex } from "../types";
import type { CommitQueue } from "./commitQueue";
import type { EventLog } from "./store/events";

/** What the metrics read from the node at scrape time. */
export interface NodeGauges {
  /** The status of every channel of the node. */
  channelStatuses(): Iterable<string>;
  /** Locks pending in the channels' latest states. */
  pendingLocks(): number;
  /** Peers with an open connection. */
  peerConnections(): number;
  /** Whether the chain endpoint answered the watcher's last round (undefined before the first). */
  chainReachable(): boolean | undefined;
  /** The asset of a channel (to label its payments), undefined if unknown. */
  assetOf(channelId: Hex): string | undefined;
}

/** A gauge another module (the webhook outbox, say) registers: read at each scrape. */
export interface GaugeSource {
  /** A Prometheus metric name, `sluice_` first by convention. */
  name: string;
  help: string;
  read(): number;
}

/** Payment latency buckets (seconds): a payment takes about a millisecond on a local disk. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const COMMIT_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
const COMMIT_SIZE_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];

const FLOAT_NOTE = "float64: inexact above 2^53 base units; for monitoring, not accounting";

export class NodeMetrics {
  readonly registry = new Registry();
  private readonly payments: Counter<"direction" | "asset">;
  private readonly amounts: Counter<"direction" | "asset">;
  private readonly latency: Histogram;
  private readonly commitSeconds: Histogram;
  private readonly commitWrites: Histogram;
  private readonly chainCalls: Counter<"method">;
  private readonly chainErrors: Counter<"method">;
  private readonly stops: (() => void)[] = [];
  /** The event log the payment counters follow, and the last event they counted. */
  private events: EventLog | undefined;
  private cursor = 0n;

  constructor(private readonly gauges: NodeGauges) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    const catchUp = () => this.countPayments();
    this.payments = new Counter({
      name: "sluice_payments_total",
      help: "Payments countersigned and stored, by direction (sent, received) and asset",
      labelNames: ["direction", "asset"],
      registers,
      collect: catchUp,
    });
    this.amounts = new Counter({
      name: "sluice_payment_amount_total",
      help: `Sum of the payments' amounts in the asset's base units, by direction and asset (${FLOAT_NOTE})`,
      labelNames: ["direction", "asset"],
      registers,
      collect: catchUp,
    });
    this.latency = new Histogram({ name: "sluice_payment_latency_seconds", help: "Time from a pay call to its state being countersigned and on disk (payments this node sends)", buckets: LATENCY_BUCKETS, registers });
    this.commitSeconds = new Histogram({ name: "sluice_commit_duration_seconds", help: "Time a group commit (one transaction, one fsync) blocked the event loop", buckets: COMMIT_BUCKETS, registers });
    this.commitWrites = new Histogram({ name: "sluice_commit_writes", help: "Writes held by one group commit", buckets: COMMIT_SIZE_BUCKETS, registers });
    this.chainCalls = new Counter({ name: "sluice_chain_calls_total", help: "Calls of the adjudicator driver (reads and transactions), by method", labelNames: ["method"], registers });
    this.chainErrors = new Counter({ name: "sluice_chain_call_errors_total", help: "Calls of the adjudicator driver that failed, by method", labelNames: ["method"], registers });
    new Gauge({
      name: "sluice_channels",
      help: "Channels of this node by status",
      labelNames: ["status"],
      registers,
      collect() {
        this.reset();
        for (const status of gauges.channelStatuses()) this.inc({ status });
      },
    });
    this.registerGauge({ name: "sluice_pending_locks", help: "Hashlocked transfers pending in the channels' latest states", read: () => gauges.pendingLocks() });
    this.registerGauge({ name: "sluice_peer_connections", help: "Peers with an open connection", read: () => gauges.peerConnections() });
    this.registerGauge({
      name: "sluice_chain_reachable",
      help: "1 if the chain endpoint answered the watcher's last round, 0 if not (absent before the first round)",
      read: () => {
        const reachable = gauges.chainReachable();
        return reachable === undefined ? NaN : reachable ? 1 : 0;
      },
    });
  }

  /** Adds a gauge read at each scrape (NaN leaves it out). Returns the function that removes it. */
  registerGauge(source: GaugeSource): () => void {
    new Gauge({
      name: source.name,
      help: source.help,
      registers: [this.registry],
      collect() {
        const value = source.read();
        if (Number.isNaN(value)) this.reset();
        else this.set(value);
      },
    });
    return () => this.registry.removeSingleMetric(source.name);
  }

  /** Counts the payments of the node's event log and times its group commits, from now on. */
  follow(events: EventLog, commits: CommitQueue): void {
    this.events = events;
    this.cursor = events.lastId();
    this.stops.push(
      commits.observe((timing) => {
        this.commitSeconds.observe(timing.ms / 1000);
        this.commitWrites.observe(timing.writes);
      }),
    );
  }

  /** Times a payment this node sends: call at `pay`, and the result when its state is on disk. */
  paymentStarted(): () => void {
    return this.latency.startTimer();
  }

  /**
   * Counts every call of `target`'s methods that returns a promise (and the failures) under the
   * method's name: the adjudicator driver. Replaces the methods on the instance; the class is untouched.
   */
  countCalls(target: object): void {
    const record = target as Record<string, unknown>;
    for (const name of methodsOf(target)) {
      const method = record[name] as (...args: unknown[]) => unknown;
      const calls = this.chainCalls.labels(name);
      const errors = this.chainErrors.labels(name);
      record[name] = function (this: unknown, ...args: unknown[]): unknown {
        const result = method.apply(this, args);
        if (!(result instanceof Promise)) return result;
        calls.inc();
        return result.catch((error: unknown) => {
          errors.inc();
          throw error;
        });
      };
    }
  }

  /** The text of `GET /metrics`. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  stop(): void {
    this.events = undefined;
    for (const stop of this.stops.splice(0)) stop();
  }

  /** Counts the payment events appended since the last count (at each scrape), summed in the store. */
  private countPayments(): void {
    if (this.events === undefined) return;
    const { lastId, totals } = this.events.paymentTotals(this.cursor);
    this.cursor = lastId;
    for (const total of totals) {
      const labels = { direction: total.type === "payment.sent" ? "sent" : "received", asset: this.assetLabel(total.channelId) };
      this.payments.inc(labels, total.count);
      this.amounts.inc(labels, total.amount);
    }
  }

  private assetLabel(channelId: Hex | undefined): string {
    return (channelId === undefined ? undefined : this.gauges.assetOf(channelId))?.toLowerCase() ?? "unknown";
  }
}

/** The public methods of `target`'s class. */
function methodsOf(target: object): string[] {
  const proto = Object.getPrototypeOf(target) as object;
  return Object.getOwnPropertyNames(proto).filter(
    (name) => name !== "constructor" && !name.startsWith("_") && typeof Object.getOwnPropertyDescriptor(proto, name)?.value === "function",
  );
}
