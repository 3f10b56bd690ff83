/**
 * The watchtower's tables (migration 14): its clients, and per client and channel the params and
 * the newest state both participants signed. Every write is one statement, committed (and, with
 * the store's `synchronous = FULL`, on disk) before the tower acknowledges it.
 */
import type { Database, Statement } from "better-sqlite3";
import type { Address, Hex, Params, SignedState } from "../types";
import { address, bytes32, uint64Key } from "../node/store/codec";

/** A channel the tower watches: the newest state any of its clients handed. */
export interface WatchedState {
  params: Params;
  latest: SignedState;
}

export interface TowerClientRecord {
  address: Address;
  /** Unix ms. */
  firstSeen: number;
  lastSeen: number;
  /** Channels it handed a state of and that are not concluded. */
  channels: number;
}

interface StateRow {
  client: Address;
  channel_id: Hex;
  version: string;
  params: string;
  signed: string;
}

export class TowerStore {
  private readonly stSeen: Statement<[Address, number, number]>;
  private readonly stClients: Statement<[], { address: Address; first_seen: number; last_seen: number; channels: number }>;
  private readonly stPut: Statement<[Address, Hex, string, string, string, number]>;
  private readonly stVersion: Statement<[Address, Hex], string>;
  private readonly stNewest: Statement<[Hex], StateRow>;
  private readonly stOfClient: Statement<[Address], { channel_id: Hex; version: string }>;
  private readonly stLive: Statement<[], { channel_id: Hex }>;
  private readonly stConclude: Statement<[number, Hex]>;

  constructor(
    db: Database,
    private readonly now: () => number,
  ) {
    this.stSeen = db.prepare(
      "INSERT INTO tower_clients (address, first_seen, last_seen) VALUES (?, ?, ?) ON CONFLICT (address) DO UPDATE SET last_seen = excluded.last_seen",
    );
    this.stClients = db.prepare(
      `SELECT c.address, c.first_seen, c.last_seen, count(s.channel_id) AS channels FROM tower_clients c
       LEFT JOIN tower_states s ON s.client = c.address AND s.concluded_at IS NULL GROUP BY c.address ORDER BY c.first_seen, c.address`,
    );
    // A state replaces the held one only if newer; an older or equal one changes nothing.
    this.stPut = db.prepare(
      `INSERT INTO tower_states (client, channel_id, version, params, signed, updated_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (client, channel_id) DO UPDATE SET version = excluded.version, signed = excluded.signed, updated_at = excluded.updated_at
       WHERE excluded.version > tower_states.version`,
    );
    this.stVersion = db.prepare<[Address, Hex], string>("SELECT version FROM tower_states WHERE client = ? AND channel_id = ?").pluck();
    this.stNewest = db.prepare("SELECT * FROM tower_states WHERE channel_id = ? AND concluded_at IS NULL ORDER BY version DESC LIMIT 1");
    this.stOfClient = db.prepare("SELECT channel_id, version FROM tower_states WHERE client = ? ORDER BY channel_id");
    this.stLive = db.prepare("SELECT DISTINCT channel_id FROM tower_states WHERE concluded_at IS NULL");
    this.stConclude = db.prepare("UPDATE tower_states SET concluded_at = ? WHERE channel_id = ? AND concluded_at IS NULL");
  }

  /** Records that `client` connected (its first and last time). */
  seen(client: Address): void {
    const now = this.now();
    this.stSeen.run(address(client, "client"), now, now);
  }

  clients(): TowerClientRecord[] {
    return this.stClients.all().map((row) => ({ address: row.address, firstSeen: row.first_seen, lastSeen: row.last_seen, channels: row.channels }));
  }

  /**
   * Keeps `signed` as `client`'s state of the channel unless the one held is as new or newer (the
   * caller checked the signatures). Returns the version held afterwards and whether it is this one.
   */
  put(client: Address, params: Params, signed: SignedState): { version: bigint; stored: boolean } {
    const who = address(client, "client");
    const channelId = bytes32(signed.state.channelId, "channelId");
    const version = uint64Key(signed.state.version, "version");
    this.seen(who);
    const changes = this.stPut.run(who, channelId, version, JSON.stringify(params, decimal), JSON.stringify(signed, decimal), this.now()).changes;
    return { version: BigInt(this.stVersion.get(who, channelId)!), stored: changes > 0 };
  }

  /** The newest state any client handed of a channel not yet concluded, or undefined. */
  newest(channelId: Hex): WatchedState | undefined {
    const row = this.stNewest.get(channelId.toLowerCase() as Hex);
    return row === undefined ? undefined : { params: readParams(row.params), latest: readSigned(row.signed) };
  }

  /** The channels `client` handed a state of, with the version held. */
  channelsOf(client: Address): { channelId: Hex; version: bigint }[] {
    return this.stOfClient.all(address(client, "client")).map((row) => ({ channelId: row.channel_id, version: BigInt(row.version) }));
  }

  /** The channels watched and not concluded. */
  liveChannels(): Hex[] {
    return this.stLive.all().map((row) => row.channel_id);
  }

  /** The channel concluded on chain: no longer watched. */
  concluded(channelId: Hex): void {
    this.stConclude.run(this.now(), channelId.toLowerCase() as Hex);
  }
}

// The rows hold what the book checked: read back as written, bigints from decimal strings. No
// schema library here: the store is opened by every node (and by its crash tests' writers).

/** JSON.stringify's replacer: bigints as decimal strings. */
function decimal(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}

function readParams(text: string): Params {
  const p = JSON.parse(text) as { participants: [Address, Address]; payees: [Address, Address]; asset: Address; challengePeriod: string; nonce: string };
  return { participants: p.participants, payees: p.payees, asset: p.asset, challengePeriod: BigInt(p.challengePeriod), nonce: BigInt(p.nonce) };
}

function readSigned(text: string): SignedState {
  type Pair = [string, string];
  const { state, sigs } = JSON.parse(text) as { state: { channelId: Hex; version: string; transferred: Pair; locked: Pair; locksRoot: Hex; paymentsRoot: Hex; isFinal: boolean }; sigs: [Hex, Hex] };
  const pair = (p: Pair): [bigint, bigint] => [BigInt(p[0]), BigInt(p[1])];
  return {
    state: { channelId: state.channelId, version: BigInt(state.version), transferred: pair(state.transferred), locked: pair(state.locked), locksRoot: state.locksRoot, paymentsRoot: state.paymentsRoot, isFinal: state.isFinal },
    sigs,
  };
}
