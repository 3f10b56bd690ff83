/**
 * The reads the dashboard asks before it acts or to fill its overview: a write's gas estimate
 * (`GET /v1/estimate`) and the adjudicator's credits of the node's payees (`GET /v1/credits`).
 */
import { z } from "zod";
import type { CreditView, EstimateAction, EstimateRequest, EstimateView } from "../node/api/types";
import { addressJson, boolean, bytes32Json, optionalJson, uint256Json } from "./primitives";

type Schema<T> = z.ZodType<T, unknown>;

export const ESTIMATE_ACTIONS: readonly [EstimateAction, ...EstimateAction[]] = ["open", "deposit", "cashout", "close", "challenge", "withdraw"];

export const estimateBody: Schema<EstimateRequest> = z.strictObject({
  action: z.enum(ESTIMATE_ACTIONS),
  channelId: optionalJson(bytes32Json),
  amount: optionalJson(uint256Json),
  peer: optionalJson(addressJson),
  asset: optionalJson(addressJson),
});

export const estimateView: Schema<EstimateView> = z.strictObject({
  action: z.enum(ESTIMATE_ACTIONS),
  channelId: optionalJson(bytes32Json),
  gas: uint256Json,
  basis: z.enum(["simulated", "typical"]),
  baseFee: uint256Json,
  tip: uint256Json,
  maxFeePerGas: uint256Json,
  fee: uint256Json,
  maxFee: uint256Json,
});

export const creditView: Schema<CreditView> = z.strictObject({
  owner: addressJson,
  asset: addressJson,
  amount: uint256Json,
  withdrawable: boolean,
});
