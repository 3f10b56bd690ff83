// The page's shared pieces: the message bar and the confirmation dialog.
import { el, formatWei } from "./dom.js";

const message = () => document.getElementById("message");

/** Shows a readable message (an error from the node, or news); `kind` "info" for good news. */
export function showMessage(text, kind = "error") {
  const bar = message();
  bar.textContent = text;
  bar.className = `message ${kind === "info" ? "info" : ""}`;
  bar.hidden = false;
}

export function clearMessage() {
  message().hidden = true;
}

/** What an error says to a person: the node's own message, never raw JSON. */
export const explain = (error) => (error instanceof Error ? error.message : String(error));

/** An estimate (GET /v1/estimate) in words: the fee at today's price, the gas, and the most it can cost. */
export function describeEstimate(estimate) {
  const gas = BigInt(estimate.gas).toLocaleString("en-US");
  const basis = estimate.basis === "typical" ? ", the measured figure: the peer signs first" : "";
  return `Network fee about ${formatWei(estimate.fee)} (${gas} gas at ${formatWei(BigInt(estimate.baseFee) + BigInt(estimate.tip))} per gas${basis}); at most ${formatWei(estimate.maxFee)}.`;
}

/**
 * The dialog's gas estimate: `estimate(values)` asks the node (or answers null while the fields it
 * needs are empty); asked again as the fields change, the latest answer shown.
 */
function estimateLine(form, fields, estimate) {
  const line = el("p", { id: "dialog-estimate", class: "estimate", "aria-live": "polite" });
  if (estimate === undefined) return { line: null, stop: () => undefined };
  let asked = 0;
  let timer;
  const update = async () => {
    const ticket = ++asked;
    const values = Object.fromEntries(fields.map((f) => [f.name, form.elements[f.name].value]));
    let pending;
    try {
      pending = estimate(values);
    } catch (error) {
      pending = null;
      line.textContent = `Gas estimate: ${explain(error)}`;
      line.dataset.state = "refused";
      return;
    }
    if (pending === null) {
      line.textContent = "Gas estimate: fill in the fields to see it.";
      line.dataset.state = "waiting";
      return;
    }
    line.textContent = "Estimating the network fee…";
    line.dataset.state = "asking";
    try {
      const answer = await pending;
      if (ticket !== asked) return;
      line.textContent = describeEstimate(answer);
      line.dataset.state = "estimated";
    } catch (error) {
      if (ticket !== asked) return;
      line.textContent = `This would not go through now: ${explain(error)}`;
      line.dataset.state = "refused";
    }
  };
  const onInput = () => {
    clearTimeout(timer);
    timer = setTimeout(update, 250);
  };
  form.addEventListener("input", onInput);
  queueMicrotask(update);
  return { line, stop: () => { clearTimeout(timer); asked += 1; form.removeEventListener("input", onInput); } };
}

/**
 * Gives keyboard users their place back after a dialog: the element that opened it, or, if a live
 * update redrew it meanwhile, the same action of the same channel.
 */
function focusReturner(opener) {
  const action = opener?.getAttribute?.("data-action");
  const channel = opener?.closest?.("[data-channel]")?.getAttribute("data-channel");
  const selector = action && channel ? `[data-channel="${channel}"] [data-action="${action}"]` : null;
  return () => {
    const target = opener?.isConnected ? opener : selector === null ? null : document.querySelector(selector);
    target?.focus();
  };
}

/**
 * Asks for confirmation (and the fields of an action) in a modal dialog, with the action's gas
 * estimate when `estimate` is given; `run(values)` does the action: its error is shown in the
 * dialog, which stays open. Resolves with run's result, or undefined when cancelled.
 */
export function confirmAction({ title, text, fields = [], ok = "Confirm", danger = false, estimate, run }) {
  const dialog = document.getElementById("dialog");
  const form = document.getElementById("dialog-form");
  const body = document.getElementById("dialog-body");
  const error = document.getElementById("dialog-error");
  const okButton = document.getElementById("dialog-ok");
  const cancel = document.getElementById("dialog-cancel");
  document.getElementById("dialog-title").textContent = title;
  body.replaceChildren(
    ...(text === undefined ? [] : [el("p", {}, text)]),
    ...fields.map((field) => [
      el("label", { for: `field-${field.name}` }, field.label),
      el("input", { id: `field-${field.name}`, name: field.name, type: field.type ?? "text", value: field.value ?? "", placeholder: field.placeholder, required: field.optional ? undefined : true, autocomplete: "off" }),
    ]).flat(),
  );
  const estimating = estimateLine(form, fields, estimate);
  if (estimating.line !== null) body.append(estimating.line);
  error.hidden = true;
  okButton.textContent = ok;
  okButton.className = danger ? "danger" : "";
  okButton.disabled = false;
  const returnFocus = focusReturner(document.activeElement);
  return new Promise((resolve) => {
    const finish = (result) => {
      estimating.stop();
      queueMicrotask(returnFocus);
      form.removeEventListener("submit", submit);
      cancel.removeEventListener("click", onCancel);
      dialog.removeEventListener("cancel", onCancel);
      if (dialog.open) dialog.close();
      resolve(result);
    };
    const onCancel = () => finish(undefined);
    const submit = async (event) => {
      event.preventDefault();
      const values = Object.fromEntries(fields.map((f) => [f.name, form.elements[f.name].value]));
      okButton.disabled = true;
      okButton.textContent = "Working…";
      try {
        finish(await run(values));
      } catch (failure) {
        error.textContent = explain(failure);
        error.hidden = false;
        okButton.disabled = false;
        okButton.textContent = ok;
      }
    };
    form.addEventListener("submit", submit);
    cancel.addEventListener("click", onCancel);
    dialog.addEventListener("cancel", onCancel);
    dialog.showModal();
    (body.querySelector("input") ?? okButton).focus();
  });
}

/** A screen's refresh, run at most once at a time and coalesced when events arrive in bursts. */
export function coalesce(refresh) {
  let running = null;
  let again = false;
  const run = async () => {
    if (running !== null) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        await refresh();
      } while (again);
    })().finally(() => {
      running = null;
    });
    return running;
  };
  return run;
}
