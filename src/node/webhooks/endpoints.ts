/**
 * What an endpoint is made of, checked: its URL (http or https only), its filter (known event
 * types) and its signing secret (random unless given); and how the API shows a stored one.
 */
import { randomBytes } from "node:crypto";
import type { WebhookView } from "../api/types";
import { EVENT_TYPES, type EventType } from "../store/events";
import type { NewWebhook, WebhookRecord } from "../store/webhooks";
import { InvalidWebhookError } from "./errors";

/** Every event type; a Record so that a type added to `EventType` and not here fails to compile. */
export const WEBHOOK_EVENT_TYPES: readonly EventType[] = EVENT_TYPES;

export const MIN_SECRET_LENGTH = 16;
export const MAX_SECRET_LENGTH = 256;
export const MAX_URL_LENGTH = 2048;

/** What `addWebhook` is given. */
export interface WebhookRequest {
  url: string;
  /** The event types to deliver (default: every event). */
  events?: readonly string[];
  /** The signing secret (default: a random one, `whsec_` and 64 hex digits). */
  secret?: string;
}

/** The request checked into an endpoint to store; throws `InvalidWebhookError` naming the field. */
export function newWebhook(request: WebhookRequest): NewWebhook {
  return { url: checkUrl(request.url), events: checkEvents(request.events ?? []), secret: request.secret === undefined ? randomSecret() : checkSecret(request.secret) };
}

/**
 * http(s) only. Loopback and private addresses are allowed on purpose: the integrator's service
 * usually runs beside the node.
 */
function checkUrl(text: string): string {
  if (typeof text !== "string" || text.length > MAX_URL_LENGTH) throw new InvalidWebhookError("url", `expected a URL of at most ${MAX_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InvalidWebhookError("url", `${JSON.stringify(text)} is not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new InvalidWebhookError("url", `${JSON.stringify(text)}: only http:// and https:// URLs, not ${url.protocol}`);
  }
  if (url.username !== "" || url.password !== "") throw new InvalidWebhookError("url", "credentials in the URL are not kept: verify the signature instead");
  return url.toString();
}

function checkEvents(types: readonly string[]): EventType[] {
  const unknown = types.filter((type) => !(EVENT_TYPES as readonly string[]).includes(type));
  if (unknown.length > 0) {
    throw new InvalidWebhookError("events", `unknown event type${unknown.length > 1 ? "s" : ""} ${unknown.map((t) => JSON.stringify(t)).join(", ")}: see docs/api.md "Events"`);
  }
  return [...new Set(types as readonly EventType[])];
}

function checkSecret(secret: string): string {
  if (typeof secret !== "string" || secret.length < MIN_SECRET_LENGTH || secret.length > MAX_SECRET_LENGTH || !/^[\x21-\x7e]+$/.test(secret)) {
    throw new InvalidWebhookError("secret", `expected ${MIN_SECRET_LENGTH} to ${MAX_SECRET_LENGTH} printable ASCII characters without spaces`);
  }
  return secret;
}

function randomSecret(): string {
  return `whsec_${randomBytes(32).toString("hex")}`;
}

/** A stored endpoint as the API shows it; its secret only when `withSecret` (the answer to adding it). */
export function webhookViewOf(record: WebhookRecord, withSecret = false): WebhookView {
  const { secret, ...view } = record;
  return withSecret ? { ...view, secret } : view;
}
