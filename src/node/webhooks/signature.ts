/**
 * The signature of a webhook request, as Stripe's: `Sluice-Signature: t=<unix seconds>,v1=<hex>`
 * where the hex is HMAC-SHA256 of `"<t>.<raw body>"` keyed with the endpoint's secret. The
 * timestamp is signed, so an old request replayed later fails the receiver's tolerance. The body is
 * a batch: `{"events":[<EventView>, ...]}`, one or more events in id order.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type { EventView } from "../api/eventStream";
import { WebhookSignatureError } from "./errors";

export const SIGNATURE_HEADER = "Sluice-Signature";
/** `<first id>-<last id>` of the events in the body (a filtered endpoint's batch skips the ids it does not match). */
export const EVENT_IDS_HEADER = "Sluice-Event-Ids";
/** How old a request `verifyWebhook` accepts by default (seconds). */
export const DEFAULT_TOLERANCE_SECONDS = 300;

function hmac(secret: string, timestamp: number, body: string | Uint8Array): Buffer {
  return createHmac("sha256", secret).update(`${timestamp}.`).update(body).digest();
}

/** The `Sluice-Signature` value of `body` sent at `timestamp` (unix seconds). */
export function signWebhook(secret: string, body: string | Uint8Array, timestamp: number): string {
  return `t=${timestamp},v1=${hmac(secret, timestamp, body).toString("hex")}`;
}

/** A webhook request's body: the events it carries, in id order. */
export interface WebhookBody {
  events: EventView[];
}

/** The body of a request carrying `events`, each already JSON (`eventJson`). */
export function webhookBody(events: readonly string[]): string {
  return `{"events":[${events.join(",")}]}`;
}

/**
 * Checks a webhook request on the receiver's side and returns its events, in id order: `header` is the
 * `Sluice-Signature` value, `rawBody` the body exactly as received (before any JSON parsing). Throws
 * `WebhookSignatureError` unless one `v1` is the HMAC of the body with `secret` and `t` is within
 * `toleranceSeconds` of `now` (unix ms, default the clock). Deliveries are at least once: dedupe by
 * the events' ids (a batch that was not acknowledged comes again, from its first event).
 */
export function verifyWebhook(
  secret: string,
  header: string | undefined,
  rawBody: string | Uint8Array,
  toleranceSeconds: number = DEFAULT_TOLERANCE_SECONDS,
  now: number = Date.now(),
): EventView[] {
  if (typeof header !== "string" || header === "") throw new WebhookSignatureError(`no ${SIGNATURE_HEADER} header`);
  let timestamp: number | undefined;
  const signatures: Buffer[] = [];
  for (const part of header.split(",")) {
    const [key, value] = part.trim().split("=", 2);
    if (key === "t" && /^[0-9]{1,12}$/.test(value ?? "")) timestamp = Number(value);
    else if (key === "v1" && /^[0-9a-f]{64}$/.test(value ?? "")) signatures.push(Buffer.from(value, "hex"));
  }
  if (timestamp === undefined) throw new WebhookSignatureError("no timestamp (t=) in the header");
  if (signatures.length === 0) throw new WebhookSignatureError("no v1 signature in the header");
  const expected = hmac(secret, timestamp, rawBody);
  if (!signatures.some((signature) => timingSafeEqual(signature, expected))) {
    throw new WebhookSignatureError("no v1 signature matches the body with this secret");
  }
  const age = Math.abs(now / 1000 - timestamp);
  if (age > toleranceSeconds) throw new WebhookSignatureError(`the timestamp is ${Math.round(age)} s from now, beyond the tolerance of ${toleranceSeconds} s`);
  let body: unknown;
  try {
    body = JSON.parse(typeof rawBody === "string" ? rawBody : Buffer.from(rawBody).toString("utf8"));
  } catch (error) {
    throw new WebhookSignatureError(`the signed body is not JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  const events = (body as Partial<WebhookBody> | null)?.events;
  if (!Array.isArray(events)) throw new WebhookSignatureError('the signed body is not a batch of events ({"events": [...]})');
  return events;
}
