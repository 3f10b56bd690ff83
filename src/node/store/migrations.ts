/**
 * The store's schema, as an ordered list of migrations. `PRAGMA user_version` holds the number of
 * the last one applied; each runs in its own transaction together with the bump of that number,
 * so a crash leaves the database at one version or the next, never in between. Append new
 * migrations; never edit one that has shipped.
 */
import type { Database } from "better-sqlite3";
import { MigrationError, SchemaTooNewError, StoreError } from "./errors";

export interface Migration {
  /** The schema version this migration produces: 1, 2, 3, ... in order. */
  readonly version: number;
  readonly description: string;
  readonly up: (db: Database) => void;
}

/** `PRAGMA application_id` of a Sluice store ("SLC1"), so that another program's file is refused. */
export const APPLICATION_ID = 0x534c4331;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: "channels, countersigned states, payments, own signatures, watcher cursors",
    up(db) {
      db.exec(`
        PRAGMA application_id = ${APPLICATION_ID};

        -- uint256 amounts and uint64 params: TEXT decimal; versions and seqs: TEXT of 20 digits
        -- (text order = numeric order); hex: lower-case 0x TEXT; times: INTEGER milliseconds.
        CREATE TABLE channels (
          id               INTEGER PRIMARY KEY,
          channel_id       TEXT    NOT NULL UNIQUE,
          participant0     TEXT    NOT NULL,
          participant1     TEXT    NOT NULL,
          asset            TEXT    NOT NULL,
          challenge_period TEXT    NOT NULL,
          nonce            TEXT    NOT NULL,
          my_index         INTEGER NOT NULL CHECK (my_index IN (0, 1)),
          peer             TEXT    NOT NULL,
          status           TEXT    NOT NULL,
          deposit0         TEXT    NOT NULL,
          deposit1         TEXT    NOT NULL,
          final_version    TEXT,   -- lowest version of a final state this side signed or holds
          created_at       INTEGER NOT NULL,
          updated_at       INTEGER NOT NULL
        );
        CREATE INDEX channels_peer ON channels (peer);

        -- Every fully signed state, both signatures.
        CREATE TABLE states (
          chan          INTEGER NOT NULL REFERENCES channels (id),
          version       TEXT    NOT NULL,
          transferred0  TEXT    NOT NULL,
          transferred1  TEXT    NOT NULL,
          payments_root TEXT    NOT NULL,
          is_final      INTEGER NOT NULL,
          sig0          TEXT    NOT NULL,
          sig1          TEXT    NOT NULL,
          payment_seq   TEXT,   -- the first payment this state added, if any (v3: payment_count of them)
          recorded_at   INTEGER NOT NULL,
          PRIMARY KEY (chan, version)
        ) WITHOUT ROWID;

        -- Every payment leaf, by its position in the channel's log; written with its state.
        CREATE TABLE payments (
          chan    INTEGER NOT NULL,
          seq     TEXT    NOT NULL,
          version TEXT    NOT NULL,
          payer   INTEGER NOT NULL CHECK (payer IN (0, 1)),
          amount  TEXT    NOT NULL,
          ref     TEXT    NOT NULL,
          leaf    TEXT    NOT NULL,
          PRIMARY KEY (chan, seq),
          FOREIGN KEY (chan, version) REFERENCES states (chan, version)
        ) WITHOUT ROWID;

        -- Every state this side signed, written before the signature leaves the process.
        CREATE TABLE own_signatures (
          chan          INTEGER NOT NULL REFERENCES channels (id),
          version       TEXT    NOT NULL,
          transferred0  TEXT    NOT NULL,
          transferred1  TEXT    NOT NULL,
          payments_root TEXT    NOT NULL,
          is_final      INTEGER NOT NULL,
          sig           TEXT    NOT NULL,
          signed_at     INTEGER NOT NULL,
          PRIMARY KEY (chan, version)
        ) WITHOUT ROWID;

        -- The last block each watcher has processed.
        CREATE TABLE cursors (
          name       TEXT    PRIMARY KEY,
          block      INTEGER NOT NULL,
          updated_at INTEGER NOT NULL
        );
      `);
    },
  },
  {
    version: 2,
    description: "peers: where to dial each peer",
    up(db) {
      db.exec(`
        CREATE TABLE peers (
          address    TEXT    PRIMARY KEY,
          url        TEXT    NOT NULL,
          updated_at INTEGER NOT NULL
        );
      `);
    },
  },
  {
    version: 3,
    description: "states: how many payments each state added; channels: the versions reserved for proposals",
    up(db) {
      db.exec(`
        ALTER TABLE states ADD COLUMN payment_count INTEGER NOT NULL DEFAULT 0;
        UPDATE states SET payment_count = 1 WHERE payment_seq IS NOT NULL;
        -- Participant 0 signs proposals only up to this version (written before any leaves the
        -- process); after a restart it goes on above it, so no version is signed twice.
        ALTER TABLE channels ADD COLUMN reserved_version TEXT;
      `);
    },
  },
  {
    version: 4,
    description: "protocol v2: payees and withdrawals of channels, locks of states",
    up(db) {
      db.exec(`
        -- Where each participant's payouts go (v2 params). A channel stored before has none: its
        -- payees are its participants, and it stays marked as a protocol-1 channel (its id hashes
        -- params without payees, for the v1 adjudicator).
        ALTER TABLE channels ADD COLUMN payee0 TEXT;
        ALTER TABLE channels ADD COLUMN payee1 TEXT;
        UPDATE channels SET payee0 = participant0, payee1 = participant1;
        ALTER TABLE channels ADD COLUMN protocol INTEGER NOT NULL DEFAULT 1;
        -- Confirmed on-chain cumulative withdrawals (partialWithdraw) of each participant.
        ALTER TABLE channels ADD COLUMN withdrawn0 TEXT NOT NULL DEFAULT '0';
        ALTER TABLE channels ADD COLUMN withdrawn1 TEXT NOT NULL DEFAULT '0';
        -- Pending hashlocked transfers of a state: none in the states stored before.
        ALTER TABLE states ADD COLUMN locked0 TEXT NOT NULL DEFAULT '0';
        ALTER TABLE states ADD COLUMN locked1 TEXT NOT NULL DEFAULT '0';
        ALTER TABLE states ADD COLUMN locks_root TEXT NOT NULL DEFAULT '0x0000000000000000000000000000000000000000000000000000000000000000';
        ALTER TABLE own_signatures ADD COLUMN locked0 TEXT NOT NULL DEFAULT '0';
        ALTER TABLE own_signatures ADD COLUMN locked1 TEXT NOT NULL DEFAULT '0';
        ALTER TABLE own_signatures ADD COLUMN locks_root TEXT NOT NULL DEFAULT '0x0000000000000000000000000000000000000000000000000000000000000000';
      `);
    },
  },
  {
    version: 5,
    description: "withdrawals while open: this side's proposals and the withdrawals both signed",
    up(db) {
      db.exec(`
        -- Every withdrawal this side signed, written before its signature leaves the process: its
        -- own proposals (the peer's signature '0x' until it arrives) and those it countersigned.
        -- Proposed and signed ones count as spent until executed on chain or expired.
        CREATE TABLE withdrawals (
          chan        INTEGER NOT NULL REFERENCES channels (id),
          participant INTEGER NOT NULL CHECK (participant IN (0, 1)),
          total       TEXT    NOT NULL,   -- cumulative uint256 as 78 digits (text order = numeric order)
          expiry      TEXT    NOT NULL,   -- uint64 decimal: last block timestamp it can be executed at
          sig0        TEXT    NOT NULL,
          sig1        TEXT    NOT NULL,
          status      TEXT    NOT NULL CHECK (status IN ('proposed', 'signed', 'executed', 'expired', 'refused', 'void')),
          tx_hash     TEXT,   -- the transaction that executed it, when this node sent it
          updated_at  INTEGER NOT NULL,
          PRIMARY KEY (chan, participant, total)
        ) WITHOUT ROWID;
      `);
    },
  },
  {
    version: 6,
    description: "payments: lookup by ref; the memos refs were made from",
    up(db) {
      db.exec(`
        CREATE INDEX payments_by_ref ON payments (chan, ref);
        -- The text a payment's ref was hashed from (keccak256 of its UTF-8), when this node was
        -- given one: local data, never in a state or leaf. Written before the payment is sent.
        CREATE TABLE memos (
          ref  TEXT PRIMARY KEY,
          memo TEXT NOT NULL
        ) WITHOUT ROWID;
      `);
    },
  },
  {
    version: 7,
    description: "the event log: every change a user cares about, written with the change",
    up(db) {
      db.exec(`
        -- AUTOINCREMENT: an id is never reused, so a subscriber resuming after id N misses nothing.
        CREATE TABLE events (
          id   INTEGER PRIMARY KEY AUTOINCREMENT,
          type TEXT    NOT NULL,
          chan TEXT,             -- the channel id, when the event is a channel's
          at   INTEGER NOT NULL, -- unix ms
          data TEXT    NOT NULL  -- JSON object, bigints as decimal strings
        );
      `);
    },
  },
  {
    version: 8,
    description: "invoices: the payee's invoices and their secrets (src/node/store/invoices.ts)",
    up(db) {
      db.exec(`
        -- Invoices this node made. expiry: unix seconds (INTEGER, compared with the clock in SQL);
        -- amounts TEXT decimal; hex lower-case 0x TEXT; times INTEGER milliseconds. The secret is the
        -- 32-byte preimage of hashlock (sha256), revealed only by the payment that pays the invoice.
        CREATE TABLE invoices (
          id           INTEGER PRIMARY KEY,  -- rows are never deleted: ids only grow
          hashlock     TEXT    NOT NULL UNIQUE,
          secret       TEXT    NOT NULL,
          chain_id     TEXT    NOT NULL,
          adjudicator  TEXT    NOT NULL,
          asset        TEXT    NOT NULL,
          payee        TEXT    NOT NULL,
          amount       TEXT    NOT NULL,
          expiry       INTEGER NOT NULL,
          ref          TEXT    NOT NULL,
          description  TEXT    NOT NULL,
          signature    TEXT    NOT NULL,
          memo         TEXT,
          status       TEXT    NOT NULL CHECK (status IN ('open', 'paid', 'cancelled')),
          paid_amount  TEXT,
          created_at   INTEGER NOT NULL,
          paid_at      INTEGER,
          cancelled_at INTEGER
        );
        CREATE INDEX invoices_by_status ON invoices (status, id);
      `);
    },
  },
  {
    version: 9,
    description: "scoped API tokens, stored hashed",
    up(db) {
      db.exec(`
        -- Tokens of the local API besides the admin token of api.token: only the sha256 of each is
        -- kept (hex), so a copy of the store gives no access. Revoked ones stay, marked.
        CREATE TABLE api_tokens (
          id         INTEGER PRIMARY KEY,
          hash       TEXT    NOT NULL UNIQUE,
          scope      TEXT    NOT NULL CHECK (scope IN ('admin', 'read-only', 'invoice')),
          name       TEXT    NOT NULL,
          created_at INTEGER NOT NULL,
          revoked_at INTEGER
        );
      `);
    },
  },
  {
    version: 10,
    description: "the hashes of the recent blocks each watcher read, to detect reorgs",
    up(db) {
      db.exec(`
        -- Written with the watcher's cursor in one transaction; a reorg deletes those above the fork.
        CREATE TABLE block_hashes (
          cursor TEXT    NOT NULL,
          number INTEGER NOT NULL,
          hash   TEXT    NOT NULL,
          PRIMARY KEY (cursor, number)
        ) WITHOUT ROWID;
      `);
    },
  },
  {
    version: 11,
    description: "webhooks: endpoints and their delivery outbox (src/node/store/webhooks.ts)",
    up(db) {
      db.exec(`
        -- One row per endpoint, which is its outbox: the events after \`cursor\` (an events.id) that
        -- match \`events\` are still to deliver, in id order. attempts/next_at: the retry state of
        -- the event being delivered. Times are unix ms.
        CREATE TABLE webhooks (
          id            INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: a removed id stays unknown
          url           TEXT    NOT NULL,
          events        TEXT    NOT NULL,  -- JSON array of event types; [] = every event
          secret        TEXT    NOT NULL,  -- the HMAC key of Sluice-Signature (needed in clear to sign)
          created_at    INTEGER NOT NULL,
          cursor        INTEGER NOT NULL,  -- the last event id delivered (or passed over by the filter)
          delivered     INTEGER NOT NULL DEFAULT 0,
          failures      INTEGER NOT NULL DEFAULT 0,
          attempts      INTEGER NOT NULL DEFAULT 0,  -- failed attempts at the next event in a row
          next_at       INTEGER,                     -- no attempt before this time (null: at once)
          last_error    TEXT,
          last_error_at INTEGER
        );
      `);
    },
  },
  {
    version: 12,
    description: "the transactions the node sent and has not seen mined (its nonces across restarts)",
    up(db) {
      db.exec(`
        -- One row per nonce in use: written before each attempt is broadcast, deleted once mined.
        -- body: the transaction's fields, fees and the hashes of every attempt (JSON, integers as decimal strings).
        CREATE TABLE pending_transactions (
          sender  TEXT    NOT NULL,
          nonce   INTEGER NOT NULL,
          body    TEXT    NOT NULL,
          sent_at INTEGER NOT NULL,
          PRIMARY KEY (sender, nonce)
        ) WITHOUT ROWID;
      `);
    },
  },
  {
    version: 13,
    description: "pending locks, known secrets, lock states' updates and outgoing invoice payments (src/node/store/locks.ts)",
    up(db) {
      db.exec(`
        -- Each lock a countersigned state added, with the version that added it and the one that
        -- removed it (NULL while pending) and why. Written in the commit of those states.
        CREATE TABLE locks (
          channel_id      TEXT    NOT NULL,
          leaf            TEXT    NOT NULL,  -- lockLeafHex: unique among a channel's pending locks
          added_version   TEXT    NOT NULL,  -- uint64 key (20 digits)
          sender          INTEGER NOT NULL CHECK (sender IN (0, 1)),
          amount          TEXT    NOT NULL,
          hashlock        TEXT    NOT NULL,
          expiry          TEXT    NOT NULL,
          ref             TEXT    NOT NULL,
          removed_version TEXT,
          removed_reason  TEXT CHECK (removed_reason IN ('unlock', 'cancel', 'expire')),
          PRIMARY KEY (channel_id, leaf, added_version)
        );
        CREATE INDEX locks_pending ON locks (channel_id) WHERE removed_version IS NULL;
        CREATE INDEX locks_by_hashlock ON locks (hashlock);
        -- Secrets this node knows (of its invoices' locks once unlocked, and learned from peers).
        CREATE TABLE secrets (
          hashlock TEXT PRIMARY KEY,
          secret   TEXT NOT NULL,
          at       INTEGER NOT NULL
        ) WITHOUT ROWID;
        -- The updates of each countersigned state that changed locks (JSON), for a peer's resync.
        CREATE TABLE state_updates (
          channel_id TEXT NOT NULL,
          version    TEXT NOT NULL,
          updates    TEXT NOT NULL,
          PRIMARY KEY (channel_id, version)
        ) WITHOUT ROWID;
        -- The lock that paid each of this node's invoices (written with invoices.status = 'paid'):
        -- after a restart only that lock is unlocked with the secret, any other one is given back.
        CREATE TABLE invoice_claims (
          hashlock   TEXT PRIMARY KEY,
          channel_id TEXT NOT NULL,
          leaf       TEXT NOT NULL
        ) WITHOUT ROWID;
        -- Invoices this node pays: one row per invoice (by hashlock), refused again unless failed.
        CREATE TABLE invoice_payments (
          hashlock    TEXT    PRIMARY KEY,
          invoice     TEXT    NOT NULL,  -- the sluice1... string
          channel_id  TEXT    NOT NULL,
          amount      TEXT    NOT NULL,
          status      TEXT    NOT NULL CHECK (status IN ('pending', 'paid', 'failed')),
          error       TEXT,
          started_at  INTEGER NOT NULL,
          finished_at INTEGER
        ) WITHOUT ROWID;
      `);
    },
  },
  {
    version: 14,
    description: "channels settled with locks held back, and the locks resolved on chain (src/node/store/lockSettlements.ts)",
    up(db) {
      db.exec(`
        -- A channel of this node settled on chain with amounts held back for locks: the state it
        -- settled on (JSON, filled in once read from its Challenged event), until every lock of
        -- this node in it is resolved (done = 1).
        CREATE TABLE lock_settlements (
          channel_id TEXT    PRIMARY KEY,
          version    TEXT    NOT NULL,  -- uint64 key of the settled state
          state      TEXT,
          done       INTEGER NOT NULL DEFAULT 0 CHECK (done IN (0, 1))
        ) WITHOUT ROWID;
        -- Each lock of those channels resolved on chain (a confirmed LockResolved event), by anyone.
        CREATE TABLE lock_resolutions (
          channel_id TEXT    NOT NULL,
          leaf       TEXT    NOT NULL,
          paid_to    INTEGER NOT NULL CHECK (paid_to IN (0, 1)),
          amount     TEXT    NOT NULL,
          tx_hash    TEXT    NOT NULL,
          PRIMARY KEY (channel_id, leaf)
        ) WITHOUT ROWID;
      `);
    },
  },
  {
    version: 15,
    description: "the watchtower's clients and the newest state each handed per channel (src/tower/store.ts)",
    up(db) {
      db.exec(`
        -- Nodes that registered with this node's tower (their address proven by the peer handshake).
        CREATE TABLE tower_clients (
          address    TEXT    PRIMARY KEY,
          first_seen INTEGER NOT NULL,
          last_seen  INTEGER NOT NULL
        ) WITHOUT ROWID;
        -- Per client and channel: the params and the newest state both participants signed.
        CREATE TABLE tower_states (
          client       TEXT    NOT NULL REFERENCES tower_clients (address),
          channel_id   TEXT    NOT NULL,
          version      TEXT    NOT NULL,  -- 20 digits: text order = numeric order
          params       TEXT    NOT NULL,  -- JSON (decimal strings)
          signed       TEXT    NOT NULL,  -- JSON {state, sigs}
          updated_at   INTEGER NOT NULL,
          concluded_at INTEGER,           -- the channel's Closed or Settled event was confirmed
          PRIMARY KEY (client, channel_id)
        ) WITHOUT ROWID;
        CREATE INDEX tower_states_channel ON tower_states (channel_id, version);
      `);
    },
  },
  {
    version: 16,
    description: "the node a store belongs to; the channels a restore marked as needing a resync (src/node/store/backup.ts)",
    up(db) {
      db.exec(`
        -- One row, written at the node's first start: a restore refuses another node's backup,
        -- and a start with another key, chain or adjudicator is refused.
        CREATE TABLE node_identity (
          id          INTEGER PRIMARY KEY CHECK (id = 1),
          address     TEXT NOT NULL,  -- lower-case 0x
          chain_id    TEXT NOT NULL,  -- decimal
          adjudicator TEXT NOT NULL   -- lower-case 0x
        );
        -- 1 once \`sluice restore\` put this store in place: the channel signs nothing until it has
        -- resynced with its peer (cleared in the transaction that stores the adopted states).
        ALTER TABLE channels ADD COLUMN resync_required INTEGER NOT NULL DEFAULT 0;
      `);
    },
  },
  {
    version: 17,
    description: "forwards: the locks a hub passed on between its channels (src/node/store/forwards.ts)",
    up(db) {
      db.exec(`
        -- One row per incoming lock a hub forwards, written before the outgoing lock is proposed.
        CREATE TABLE forwards (
          id          INTEGER PRIMARY KEY,
          hashlock    TEXT    NOT NULL,
          asset       TEXT    NOT NULL,
          in_channel  TEXT    NOT NULL,
          in_leaf     TEXT    NOT NULL,
          out_channel TEXT    NOT NULL,
          out_leaf    TEXT    NOT NULL,
          next_hop    TEXT    NOT NULL,
          amount_in   TEXT    NOT NULL,
          amount_out  TEXT    NOT NULL,
          fee         TEXT    NOT NULL,
          out_expiry  TEXT    NOT NULL,
          status      TEXT    NOT NULL CHECK (status IN ('pending', 'settled', 'cancelled')),
          error       TEXT,
          created_at  INTEGER NOT NULL,
          finished_at INTEGER,
          UNIQUE (in_channel, in_leaf)
        );
        CREATE INDEX forwards_pending ON forwards (status) WHERE status = 'pending';
        CREATE INDEX forwards_out ON forwards (out_channel, out_leaf);
      `);
    },
  },
  {
    version: 18,
    description: "locks keyed in insertion order: a leaf is looked up among the pending locks only (src/node/store/locks.ts)",
    up(db) {
      db.exec(`
        -- Every lock ever kept, as in migration 13, but no index over the whole history on a random
        -- key (leaf, hashlock): each such entry dirtied a page of its own per commit, so a hub's
        -- commits grew with its history. The pending locks are found by leaf and by hashlock in
        -- small partial indexes; the history by channel and version (entries added in order).
        CREATE TABLE locks_v18 (
          id              INTEGER PRIMARY KEY,
          channel_id      TEXT    NOT NULL,
          leaf            TEXT    NOT NULL,  -- lockLeafHex: unique among a channel's pending locks
          added_version   TEXT    NOT NULL,  -- uint64 key (20 digits)
          sender          INTEGER NOT NULL CHECK (sender IN (0, 1)),
          amount          TEXT    NOT NULL,
          hashlock        TEXT    NOT NULL,
          expiry          TEXT    NOT NULL,
          ref             TEXT    NOT NULL,
          removed_version TEXT,
          removed_reason  TEXT CHECK (removed_reason IN ('unlock', 'cancel', 'expire'))
        );
        INSERT INTO locks_v18 (channel_id, leaf, added_version, sender, amount, hashlock, expiry, ref, removed_version, removed_reason)
          SELECT channel_id, leaf, added_version, sender, amount, hashlock, expiry, ref, removed_version, removed_reason
          FROM locks ORDER BY channel_id, added_version, leaf;
        DROP TABLE locks;
        ALTER TABLE locks_v18 RENAME TO locks;
        -- The old key let a leaf be pending twice in a channel (never written so, but not refused):
        -- the newest stays pending, an older one counts as removed when the newest was added.
        CREATE INDEX locks_pending_leaves ON locks (channel_id, leaf, added_version) WHERE removed_version IS NULL;
        UPDATE locks SET removed_version = (
            SELECT MAX(n.added_version) FROM locks n WHERE n.channel_id = locks.channel_id AND n.leaf = locks.leaf AND n.removed_version IS NULL)
          WHERE removed_version IS NULL AND added_version < (
            SELECT MAX(n.added_version) FROM locks n WHERE n.channel_id = locks.channel_id AND n.leaf = locks.leaf AND n.removed_version IS NULL);
        DROP INDEX locks_pending_leaves;
        CREATE UNIQUE INDEX locks_pending ON locks (channel_id, leaf) WHERE removed_version IS NULL;
        CREATE INDEX locks_by_version ON locks (channel_id, added_version);
        CREATE INDEX locks_pending_by_hashlock ON locks (hashlock) WHERE removed_version IS NULL;
        -- The hashlocks of the locks pending in the state a channel settled on with amounts held
        -- back (written with its lock_settlements row): a secret revealed on chain for one of them
        -- is kept (LockSettlementStore.hasLock), without reading the channel's lock history.
        CREATE TABLE lock_settlement_hashlocks (
          hashlock   TEXT NOT NULL,
          channel_id TEXT NOT NULL,
          PRIMARY KEY (hashlock, channel_id)
        ) WITHOUT ROWID;
        INSERT OR IGNORE INTO lock_settlement_hashlocks (hashlock, channel_id)
          SELECT l.hashlock, l.channel_id FROM lock_settlements s CROSS JOIN locks l INDEXED BY locks_by_version
          WHERE l.channel_id = s.channel_id AND l.added_version <= s.version AND (l.removed_version IS NULL OR l.removed_version > s.version);
      `);
    },
  },
];

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

/**
 * Brings `db` to the last version of `migrations`, one transaction per migration; refuses a
 * database newer than the list. Returns the versions before and after.
 */
export function migrate(db: Database, migrations: readonly Migration[] = MIGRATIONS): { from: number; to: number } {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new StoreError(`migration #${i} has version ${m.version}, expected ${i + 1}`);
  });
  const known = migrations.length;
  const from = userVersion(db);
  if (from > known) throw new SchemaTooNewError(from, known);
  for (const m of migrations) {
    if (m.version <= from) continue;
    const apply = db.transaction(() => {
      // Another process may have migrated since we looked: decide under the write lock.
      const now = userVersion(db);
      if (now > known) throw new SchemaTooNewError(now, known);
      if (now >= m.version) return;
      m.up(db);
      db.pragma(`user_version = ${m.version}`);
    });
    try {
      apply.immediate();
    } catch (error) {
      if (error instanceof StoreError) throw error;
      throw new MigrationError(m.version, { cause: error });
    }
  }
  return { from, to: known };
}

export function userVersion(db: Database): number {
  return db.pragma("user_version", { simple: true }) as number;
}
