// Invoices: create one (amount, description, expiry), show it as text and as a QR code (an SVG the
// node renders), statuses updated live from the event stream.
import { assetInfo, canInvoice, read, write } from "../api.js";
import { badge, el, formatAmount, formatTime, parseAmount } from "../dom.js";
import { subscribe } from "../live.js";
import { coalesce, explain, showMessage } from "../ui.js";

const ETH = "0x0000000000000000000000000000000000000000";

async function assetOptions() {
  const assets = new Set([ETH]);
  // An invoice token may not list channels: ETH then.
  for (const c of await read("channels").catch(() => [])) assets.add(c.asset);
  const options = [];
  for (const asset of assets) options.push(el("option", { value: asset }, (await assetInfo(asset)).symbol));
  return options;
}

function detail(box, view, info) {
  // replaceChildren would write a null as the text "null": the parts not shown are left out.
  const parts = [
    el("h2", {}, `Invoice #${view.id} `, badge(view.status)),
    el("p", {}, `${formatAmount(view.invoice.amount, info)}${view.invoice.description === "" ? "" : ` · ${view.invoice.description}`}`),
    view.status === "paid"
      ? el("p", { class: "paid-note" }, `Paid ${formatAmount(view.paidAmount ?? view.invoice.amount, info)}${view.paidAt === undefined ? "" : ` on ${formatTime(view.paidAt)}`}.`)
      : el("p", { class: "muted" }, `Expires ${formatTime(view.invoice.expiry)}`),
    // Only an open invoice offers its QR code: a paid, cancelled or expired one can't be paid.
    view.status !== "open" ? null : el("img", { class: "qr", src: `/dashboard/qr?text=${encodeURIComponent(view.encoded)}`, alt: `QR code of invoice ${view.id}`, width: 220, height: 220 }),
    el("label", { for: "invoice-text" }, "Invoice text (give it to the payer)"),
    el("p", { id: "invoice-text", class: "mono invoice-text" }, view.encoded),
    el("button", { type: "button", class: "secondary", onclick: () => navigator.clipboard?.writeText(view.encoded).then(() => showMessage("Copied.", "info"), () => showMessage("The browser refused to copy: select the text instead.")) }, "Copy"),
  ];
  box.replaceChildren(...parts.filter((part) => part !== null));
  box.dataset.invoice = view.id;
  box.hidden = false;
}

export function show(container) {
  const asset = el("select", { id: "invoice-asset" });
  const amount = el("input", { id: "invoice-amount", required: true, placeholder: "25", inputmode: "decimal" });
  const description = el("input", { id: "invoice-description", maxlength: 200, placeholder: "Order 1042" });
  // Paid with a hashlocked transfer, an invoice must stay payable beyond the hour a payee has to reveal its secret.
  const expiry = el("input", { id: "invoice-expiry", type: "number", min: 1, value: 120 });
  const body = el("tbody", {});
  const box = el("section", { class: "card", id: "invoice-detail", hidden: true, "aria-live": "polite" });
  const infos = new Map();

  const refresh = coalesce(async () => {
    try {
      const list = await read("invoices", { limit: 1000 });
      const rows = [];
      for (const view of list.slice().reverse()) {
        const info = await assetInfo(view.invoice.asset);
        infos.set(view.id, info);
        rows.push(
          el("tr", { class: "clickable invoice", tabindex: 0, "data-id": view.id, onclick: () => detail(box, view, info), onkeydown: (e) => e.key === "Enter" && detail(box, view, info) },
            el("td", {}, `#${view.id}`), el("td", {}, formatAmount(view.invoice.amount, info)), el("td", {}, view.invoice.description), el("td", { class: "status" }, badge(view.status)), el("td", { class: "hide-narrow" }, formatTime(view.createdAt)),
          ),
        );
        if (box.dataset.invoice === view.id) detail(box, view, info);
      }
      body.replaceChildren(...(rows.length > 0 ? rows : [el("tr", {}, el("td", { colspan: 5 }, "No invoices yet."))]));
    } catch (error) {
      showMessage(explain(error));
    }
  });

  const create = async (event) => {
    event.preventDefault();
    try {
      const info = await assetInfo(asset.value);
      const minutes = Number(expiry.value);
      if (!Number.isInteger(minutes) || minutes < 1) throw new Error("Expires in: a whole number of minutes, 1 or more");
      const view = await write("createinvoice", { amount: parseAmount(amount.value, info), asset: asset.value, description: description.value, expiresIn: String(minutes * 60) });
      detail(box, view, info);
      amount.value = "";
      description.value = "";
      void refresh();
    } catch (error) {
      showMessage(explain(error));
    }
  };

  const parts = [
    el("h1", {}, "Invoices"),
    !canInvoice() ? null : el("form", { class: "card", id: "invoice-form", onsubmit: create },
      el("h2", {}, "New invoice"),
      el("div", { class: "row" },
        el("div", {}, el("label", { for: "invoice-amount" }, "Amount"), amount),
        el("div", {}, el("label", { for: "invoice-asset" }, "Asset"), asset),
        el("div", {}, el("label", { for: "invoice-description" }, "Description"), description),
        el("div", {}, el("label", { for: "invoice-expiry" }, "Expires in (minutes)"), expiry),
        el("button", { type: "submit" }, "Create invoice"),
      ),
    ),
    box,
    el("div", { class: "card table-wrap" }, el("table", { id: "invoices" }, el("thead", {}, el("tr", {}, el("th", {}, "Id"), el("th", {}, "Amount"), el("th", {}, "Description"), el("th", {}, "Status"), el("th", { class: "hide-narrow" }, "Created"))), body)),
  ];
  container.append(...parts.filter((part) => part !== null));
  assetOptions().then((options) => asset.replaceChildren(...options), (error) => showMessage(explain(error)));
  void refresh();
  return subscribe(["invoice.", "stream."], () => void refresh());
}
