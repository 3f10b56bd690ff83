// Payments: every payment of the node's channels, newest first; search by ref (or memo), filters
// (direction, channel, time), pages, CSV export; a payment opens its receipt: the Merkle proof as
// JSON to download and "verify on chain" (the node's prove method asks the adjudicator).
import { assetInfo, read } from "../api.js";
import { badge, download, el, formatAmount, formatTime, short } from "../dom.js";
import { subscribe } from "../live.js";
import { coalesce, explain, showMessage } from "../ui.js";

const PAGE = 20;
const REF = /^0x[0-9a-fA-F]{64}$/;

async function paymentsOf(channel, search) {
  const out = [];
  const query = search === "" ? {} : REF.test(search) ? { ref: search } : { memo: search };
  for (;;) {
    const page = await read("payments", { channelId: channel.channelId, fromSeq: out.length, limit: 1000, ...query });
    out.push(...page);
    if (page.length < 1000 || search !== "") return out;
  }
}

function csvOf(rows) {
  const cell = (v) => (/[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));
  const lines = [["channelId", "seq", "direction", "amount", "symbol", "decimals", "ref", "memo", "version", "committedAt"].join(",")];
  for (const { p, direction, info } of rows) lines.push([p.channelId, p.seq, direction, p.amount, info.symbol, info.decimals, p.ref, p.memo ?? "", p.version, p.committedAt ?? ""].map(cell).join(","));
  return lines.join("\n") + "\n";
}

function receipt(container, { p, direction, info }) {
  const result = el("p", { id: "verify-result", role: "status" });
  const proofBox = el("pre", { id: "proof-json", hidden: true, tabindex: 0, "aria-label": "the payment's Merkle proof (JSON)" });
  let proof = null;
  const verify = el("button", { type: "button", id: "verify" }, "Verify on chain");
  const save = el("button", { type: "button", class: "secondary", id: "download-proof", disabled: true }, "Download proof (JSON)");
  verify.addEventListener("click", async () => {
    verify.disabled = true;
    result.textContent = "Asking the adjudicator…";
    try {
      proof = await read("prove", { channelId: p.channelId, seq: p.seq });
      proofBox.textContent = JSON.stringify(proof, null, 2);
      proofBox.hidden = false;
      save.disabled = false;
      result.replaceChildren(
        proof.verifiedOnChain ? badge("verified", "verified") : badge("not on chain yet", "refused"),
        proof.verifiedOnChain
          ? " The adjudicator's verifyPayment accepts this payment against the state registered on chain."
          : ` The adjudicator has no state of this channel with this payment yet: it will once the channel is closed or challenged. The proof against state version ${proof.stateVersion} is ready to download.`,
      );
    } catch (error) {
      result.textContent = explain(error);
    } finally {
      verify.disabled = false;
    }
  });
  save.addEventListener("click", () => download(`sluice-receipt-${short(p.channelId).replace("…", "-")}-${p.seq}.json`, "application/json", JSON.stringify(proof, null, 2)));
  container.replaceChildren(
    el("h2", {}, `Receipt: payment #${p.seq}`),
    el("dl", { class: "stat" },
      el("dt", {}, "Amount"), el("dd", {}, `${formatAmount(p.amount, info)} `, badge(direction)),
      el("dt", {}, "Channel"), el("dd", { class: "mono" }, p.channelId),
      el("dt", {}, "Ref"), el("dd", { class: "mono invoice-text" }, p.ref),
      p.memo === undefined ? null : [el("dt", {}, "Memo"), el("dd", {}, p.memo)],
      el("dt", {}, "State version"), el("dd", {}, p.version),
      el("dt", {}, "Committed"), el("dd", {}, formatTime(p.committedAt)),
    ),
    el("div", { class: "actions" }, verify, save),
    result,
    proofBox,
  );
  container.hidden = false;
  container.scrollIntoView({ block: "nearest" });
  verify.focus();
}

export function show(container) {
  const search = el("input", { id: "search", type: "search", placeholder: "0x… ref or memo text" });
  const direction = el("select", { id: "direction" }, el("option", { value: "" }, "Both"), el("option", { value: "sent" }, "Sent"), el("option", { value: "received" }, "Received"));
  const channelFilter = el("select", { id: "channel-filter" }, el("option", { value: "" }, "All channels"));
  const from = el("input", { id: "from", type: "datetime-local" });
  const to = el("input", { id: "to", type: "datetime-local" });
  const body = el("tbody", {});
  const pager = el("div", { class: "pager" });
  const receiptBox = el("section", { class: "card", id: "receipt", hidden: true, "aria-live": "polite" });
  let rows = [];
  let page = 0;
  let lastSearch = "";

  const filtered = () => {
    const fromS = from.value === "" ? -Infinity : new Date(from.value).getTime() / 1000;
    const toS = to.value === "" ? Infinity : new Date(to.value).getTime() / 1000;
    return rows.filter((r) => (direction.value === "" || r.direction === direction.value) && (channelFilter.value === "" || r.p.channelId === channelFilter.value) && Number(r.p.committedAt ?? 0) >= fromS && Number(r.p.committedAt ?? 0) <= toS);
  };

  const draw = () => {
    const list = filtered();
    const pages = Math.max(1, Math.ceil(list.length / PAGE));
    page = Math.min(page, pages - 1);
    body.replaceChildren(
      ...list.slice(page * PAGE, page * PAGE + PAGE).map((r) =>
        el("tr", { class: "clickable payment", tabindex: 0, "data-ref": r.p.ref, "data-seq": r.p.seq, onclick: () => receipt(receiptBox, r), onkeydown: (e) => (e.key === "Enter" || e.key === " ") && (e.preventDefault(), receipt(receiptBox, r)) },
          el("td", {}, formatTime(r.p.committedAt)),
          el("td", {}, badge(r.direction)),
          el("td", {}, formatAmount(r.p.amount, r.info)),
          el("td", { class: "mono hide-narrow" }, short(r.p.channelId)),
          el("td", { class: "mono" }, r.p.memo ?? short(r.p.ref)),
        ),
      ),
    );
    if (list.length === 0) body.replaceChildren(el("tr", {}, el("td", { colspan: 5 }, lastSearch === "" ? "No payments." : "No payment with that ref.")));
    pager.replaceChildren(
      el("button", { type: "button", class: "secondary", disabled: page === 0, onclick: () => ((page -= 1), draw()) }, "Newer"),
      el("span", { id: "page-info" }, `Page ${page + 1} of ${pages} · ${list.length} payments`),
      el("button", { type: "button", class: "secondary", disabled: page >= pages - 1, onclick: () => ((page += 1), draw()) }, "Older"),
    );
  };

  const refresh = coalesce(async () => {
    try {
      const channels = await read("channels");
      const known = new Set([...channelFilter.options].map((o) => o.value));
      for (const c of channels) if (!known.has(c.channelId)) channelFilter.append(el("option", { value: c.channelId }, short(c.channelId)));
      const next = [];
      for (const channel of channels) {
        const info = await assetInfo(channel.asset);
        for (const p of await paymentsOf(channel, lastSearch)) next.push({ p, info, direction: p.payer === channel.me ? "sent" : "received" });
      }
      next.sort((a, b) => Number(b.p.committedAt ?? 0) - Number(a.p.committedAt ?? 0) || Number(b.p.seq) - Number(a.p.seq));
      rows = next;
      draw();
    } catch (error) {
      showMessage(explain(error));
    }
  });

  const form = el("form", { class: "card", id: "payment-filters", role: "search", onsubmit: (e) => (e.preventDefault(), (lastSearch = search.value.trim()), (page = 0), void refresh()) },
    el("div", { class: "row" },
      el("div", {}, el("label", { for: "search" }, "Ref or memo"), search),
      el("div", {}, el("label", { for: "direction" }, "Direction"), direction),
      el("div", {}, el("label", { for: "channel-filter" }, "Channel"), channelFilter),
      el("div", {}, el("label", { for: "from" }, "From"), from),
      el("div", {}, el("label", { for: "to" }, "To"), to),
      el("button", { type: "submit" }, "Search"),
    ),
  );
  for (const input of [direction, channelFilter, from, to]) input.addEventListener("change", () => ((page = 0), draw()));
  container.append(
    el("div", { class: "row" }, el("h1", {}, "Payments"), el("button", { type: "button", class: "secondary", id: "export-csv", onclick: () => download("sluice-payments.csv", "text/csv", csvOf(filtered())) }, "Export CSV")),
    form,
    el("div", { class: "card table-wrap" },
      el("table", { id: "payments" }, el("thead", {}, el("tr", {}, el("th", {}, "Time"), el("th", {}, "Direction"), el("th", {}, "Amount"), el("th", { class: "hide-narrow" }, "Channel"), el("th", {}, "Ref"))), body),
      pager,
    ),
    receiptBox,
  );
  void refresh();
  const unsubscribe = subscribe(["payment.", "channel.opening", "stream."], () => void refresh());
  return unsubscribe;
}
