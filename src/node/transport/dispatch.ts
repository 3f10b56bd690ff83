/**
 * Where an incoming request or notification goes: the validator of its type checks the body, then
 * the connection's own handler or the shared one runs. A handler's failure becomes the error reply.
 */
import { InvalidArgumentError, MalformedMessageError, SluiceError } from "../../errors";
import { ErrorCode } from "./codes";
import type { PeerConnection } from "./connection";
import { messageOf } from "./envelope";
import { RemoteError } from "./errors";
import type { Settings, Validator, Validators } from "./settings";

/** Handles one incoming request or notification; returns the response body (or a promise of it). */
export type Handler<M, K extends keyof M> = (body: M[K], peer: PeerConnection<M>, type: K) => unknown;
export type Handlers<M> = { readonly [K in keyof M]?: Handler<M, K> };

type AnyHandler<M> = Handler<M, keyof M>;

/** A message ready for its handler, or the error to answer with. */
export type Route<M> =
  | { ok: true; handler: AnyHandler<M>; body: M[keyof M] }
  | { ok: false; code: string; detail: string };

export class Router<M> {
  private local: Map<string, AnyHandler<M>> | undefined;

  constructor(
    private readonly validators: Validators<M>,
    private readonly shared: Handlers<M>,
  ) {}

  /** Adds (or replaces) a handler of `type` for this router only. The type needs a validator. */
  add(type: string, handler: AnyHandler<M>): void {
    if (!Object.hasOwn(this.validators, type)) throw new InvalidArgumentError(`no validator for message type ${JSON.stringify(type)}`);
    (this.local ??= new Map()).set(type, handler);
  }

  route(type: string, body: unknown): Route<M> {
    const validators = this.validators as Record<string, Validator<unknown> | undefined>;
    const validator = Object.hasOwn(validators, type) ? validators[type] : undefined;
    if (validator === undefined) return { ok: false, code: ErrorCode.UNKNOWN_TYPE, detail: `unknown message type ${JSON.stringify(type)}` };
    let value: unknown;
    try {
      value = validator(body);
    } catch (error) {
      return { ok: false, code: ErrorCode.BAD_BODY, detail: `invalid ${type} body: ${messageOf(error)}` };
    }
    const handler = this.handlerFor(type);
    if (handler === undefined) return { ok: false, code: ErrorCode.UNKNOWN_TYPE, detail: `message type ${JSON.stringify(type)} is not served by this node` };
    return { ok: true, handler, body: value as M[keyof M] };
  }

  private handlerFor(type: string): AnyHandler<M> | undefined {
    const local = this.local?.get(type);
    if (local !== undefined) return local;
    const shared = this.shared as Record<string, AnyHandler<M> | undefined>;
    return Object.hasOwn(shared, type) ? shared[type] : undefined;
  }
}

/**
 * The error reply to a handler's failure: `mapError`'s choice, else a `RemoteError` keeps its code,
 * `MalformedMessageError` is BAD_BODY, other Sluice errors REJECTED, anything else INTERNAL
 * (`internal` true: the details stay local).
 */
export function failureReply(error: unknown, type: string, mapError: Settings<unknown>["mapError"]): { code: string; message: string; internal: boolean } {
  const mapped = mapError?.(error, type);
  if (mapped !== undefined) return { ...mapped, internal: false };
  if (error instanceof RemoteError) return { code: error.code, message: error.detail, internal: false };
  if (error instanceof MalformedMessageError) return { code: ErrorCode.BAD_BODY, message: `invalid ${type} body: ${error.message}`, internal: false };
  if (error instanceof SluiceError) return { code: ErrorCode.REJECTED, message: `${error.name}: ${error.message}`, internal: false };
  return { code: ErrorCode.INTERNAL, message: `internal error while handling ${JSON.stringify(type)}`, internal: true };
}
