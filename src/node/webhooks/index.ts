export { WebhookDispatcher, retryDelay, DEFAULT_WEBHOOK_DELIVERY, MAX_BATCH_EVENTS, MAX_BATCH_CHARS, BATCH_INTERVAL_MS, type WebhookDeliveryOptions } from "./delivery";
export { newWebhook, webhookViewOf, WEBHOOK_EVENT_TYPES, type WebhookRequest } from "./endpoints";
export { InvalidWebhookError, UnknownWebhookError, WebhookSignatureError } from "./errors";
export { signWebhook, verifyWebhook, webhookBody, SIGNATURE_HEADER, EVENT_IDS_HEADER, DEFAULT_TOLERANCE_SECONDS, type WebhookBody } from "./signature";
