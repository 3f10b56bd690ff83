/** A stored forward as the API shows it. */
import type { ForwardView } from "../api/types";
import type { ForwardRecord } from "../store/forwards";

export function forwardViewOf(record: ForwardRecord): ForwardView {
  return {
    id: record.id,
    hashlock: record.hashlock,
    asset: record.asset,
    inChannel: record.inChannel,
    outChannel: record.outChannel,
    nextHop: record.nextHop,
    amountIn: record.amountIn,
    amountOut: record.amountOut,
    fee: record.fee,
    expiry: record.outExpiry,
    status: record.status,
    ...(record.error === undefined ? {} : { error: record.error }),
    createdAt: BigInt(record.createdAt),
    ...(record.finishedAt === undefined ? {} : { finishedAt: BigInt(record.finishedAt) }),
  };
}
