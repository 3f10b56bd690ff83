export { WebhookDispatcher, retryDelay, DEFAULT_WEBHOOK_DELIVERY, type WebhookDeliveryOptions } from "./delivery";
export { newWebhook, webhookViewOf, WEBHOOK_EVENT_TYPES, type WebhookRequest } from "./endpoints";
export { InvalidWebhookError, UnknownWebhookError, WebhookSignatureError } from "./errors";
export { signWebhook, verifyWebhook, SIGNATURE_HEADER, EVENT_ID_HEADER, EVENT_TYPE_HEADER, DEFAULT_TOLERANCE_SECONDS } from "./signature";
