/**
 * The node's transactions sent and not yet seen mined (table `pending_transactions`, migration 12):
 * the journal of `TxSender` (src/chain/sender.ts). A row is written before each attempt is
 * broadcast (synchronous=FULL: on disk when `put` returns) and deleted once one attempt is mined,
 * so a restart finds every nonce still in flight.
 */
import type { Database, Statement } from "better-sqlite3";
import type { PendingTx, TxJournal } from "../../chain/sender";
import type { Address } from "../../types";
import { address, decodeUint } from "./codec";
import { InvalidRecordError } from "./errors";

interface Row {
  body: string;
}

/** The JSON of `body`: integers as decimal strings. */
type Body = { [K in keyof PendingTx]: PendingTx[K] extends bigint ? string : K extends "deadline" ? { at: string; period: string } : PendingTx[K] };

const HEX = /^0x([0-9a-f]{2})*$/i;

export class TransactionStore implements TxJournal {
  private readonly stPut: Statement<[string, string, string, number]>;
  private readonly stPending: Statement<[string], Row>;
  private readonly stRemove: Statement<[string, string]>;

  constructor(db: Database) {
    this.stPut = db.prepare("INSERT OR REPLACE INTO pending_transactions (sender, nonce, body, sent_at) VALUES (?, ?, ?, ?)");
    this.stPending = db.prepare("SELECT body FROM pending_transactions WHERE sender = ? ORDER BY nonce");
    this.stRemove = db.prepare("DELETE FROM pending_transactions WHERE sender = ? AND nonce = ?");
  }

  pending(from: Address): PendingTx[] {
    return this.stPending.all(address(from, "sender").toLowerCase()).map((row) => decode(row.body));
  }

  put(tx: PendingTx): void {
    const sender = address(tx.from, "from").toLowerCase();
    this.stPut.run(sender, tx.nonce.toString(), JSON.stringify(encode(tx)), tx.sentAt);
  }

  remove(from: Address, nonce: bigint): void {
    this.stRemove.run(address(from, "sender").toLowerCase(), nonce.toString());
  }
}

function encode(tx: PendingTx): Body {
  for (const hash of tx.hashes) if (!/^0x[0-9a-f]{64}$/i.test(hash)) throw new InvalidRecordError("hashes", hash, "expected 32-byte hex hashes");
  if (!HEX.test(tx.data)) throw new InvalidRecordError("data", tx.data, "expected hex bytes");
  const { deadline, ...rest } = tx;
  return {
    ...rest,
    nonce: tx.nonce.toString(),
    chainId: tx.chainId.toString(),
    value: tx.value.toString(),
    gasLimit: tx.gasLimit.toString(),
    maxFeePerGas: tx.maxFeePerGas.toString(),
    maxPriorityFeePerGas: tx.maxPriorityFeePerGas.toString(),
    ...(deadline === undefined ? {} : { deadline: { at: deadline.at.toString(), period: deadline.period.toString() } }),
  };
}

function decode(text: string): PendingTx {
  const { deadline, ...body } = JSON.parse(text) as Body;
  return {
    ...body,
    from: address(body.from, "from"),
    to: address(body.to, "to"),
    data: body.data,
    hashes: [...body.hashes],
    nonce: decodeUint(body.nonce),
    chainId: decodeUint(body.chainId),
    value: decodeUint(body.value),
    gasLimit: decodeUint(body.gasLimit),
    maxFeePerGas: decodeUint(body.maxFeePerGas),
    maxPriorityFeePerGas: decodeUint(body.maxPriorityFeePerGas),
    ...(deadline === undefined ? {} : { deadline: { at: decodeUint(deadline.at), period: decodeUint(deadline.period) } }),
  };
}
