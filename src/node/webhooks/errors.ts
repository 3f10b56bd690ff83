import { InvalidArgumentError, SluiceError } from "../../errors";

/** A webhook endpoint can't be added as given (`field`: url, events or secret); nothing was stored. */
export class InvalidWebhookError extends InvalidArgumentError {
  static override readonly code: string = "WEBHOOK_INVALID";
  override readonly name: string = "InvalidWebhookError";

  constructor(
    readonly field: "url" | "events" | "secret",
    readonly problem: string,
  ) {
    super(`webhook ${field}: ${problem}`);
  }
}

/** No webhook endpoint with that id in this node (never added, or removed). */
export class UnknownWebhookError extends SluiceError {
  static override readonly code: string = "WEBHOOK_NOT_FOUND";
  override readonly name: string = "UnknownWebhookError";

  constructor(readonly webhook: string) {
    super(`no webhook ${webhook} in this node`);
  }
}

/**
 * A webhook request's `Sluice-Signature` does not prove it came from the node now (`verifyWebhook`,
 * on the receiver's side): no valid signature of this body with the secret, or a timestamp outside
 * the tolerance. Drop the request.
 */
export class WebhookSignatureError extends SluiceError {
  static override readonly code: string = "WEBHOOK_SIGNATURE";
  override readonly name: string = "WebhookSignatureError";

  constructor(readonly problem: string) {
    super(`webhook signature refused: ${problem}`);
  }
}
