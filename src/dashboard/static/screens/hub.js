// Hub (shown when the node routes: its info has `hub`): its fees, forwards settled and pending,
// fees earned per asset, and the forwards themselves (GET /v1/forwards, newest first, paged by
// `before`), live from the lock events.
import { assetInfo, read } from "../api.js";
import { badge, el, formatAmount, short } from "../dom.js";
import { subscribe } from "../live.js";
import { coalesce, explain, showMessage } from "../ui.js";

const PAGE = 20;

function summary(hub, earned) {
  const stat = (label, value, name) => el("div", { class: "card" }, el("h2", {}, label), el("p", { class: "big", "data-stat": name }, value));
  return [
    stat("Forwarded", BigInt(hub.forwarded).toLocaleString("en-US"), "forwarded"),
    stat("Pending", BigInt(hub.pending).toLocaleString("en-US"), "pending"),
    el("div", { class: "card" },
      el("h2", {}, "Fees earned"),
      el("ul", { class: "plain", id: "fees-earned" }, earned.length === 0 ? el("li", {}, "None yet") : earned.map(({ amount, info }) => el("li", { class: "big-ish" }, formatAmount(amount, info)))),
    ),
    el("div", { class: "card" },
      el("h2", {}, "Fee policy"),
      el("p", { "data-stat": "policy" }, `${BigInt(hub.fees.base).toLocaleString("en-US")} base units + ${Number(hub.fees.ppm).toLocaleString("en-US")} ppm of the amount`),
    ),
  ];
}

function forwardRow(forward, info) {
  const amount = (value) => formatAmount(value, info);
  return el("tr", { class: "forward", "data-hashlock": forward.hashlock, "data-status": forward.status },
    el("td", {}, new Date(Number(forward.createdAt)).toLocaleString("en-GB", { dateStyle: "short", timeStyle: "medium" })),
    el("td", { class: "mono" }, short(forward.hashlock)),
    el("td", { class: "mono hide-narrow" }, `${short(forward.inChannel)} → ${short(forward.outChannel)}`),
    el("td", {}, amount(forward.amountIn)),
    el("td", { class: "hide-narrow" }, amount(forward.amountOut)),
    el("td", {}, amount(forward.fee)),
    el("td", {}, badge(forward.status), forward.error === undefined ? null : el("span", { class: "muted" }, ` ${forward.error}`)),
  );
}

export function show(container) {
  const stats = el("div", { class: "grid stats", id: "hub-summary" });
  const status = el("select", { id: "forward-status" }, el("option", { value: "" }, "All"), ["pending", "settled", "cancelled"].map((s) => el("option", { value: s }, s)));
  const body = el("tbody", {});
  const pageInfo = el("span", { id: "forwards-page", class: "muted" });
  const newer = el("button", { type: "button", class: "secondary" }, "Newest");
  const older = el("button", { type: "button", class: "secondary" }, "Older");
  // The cursors of the pages shown so far: `before` of each (undefined: the newest).
  let cursors = [undefined];

  const refresh = coalesce(async () => {
    try {
      const [info, page] = await Promise.all([read("info"), read("forwards", { limit: PAGE, before: cursors[cursors.length - 1], status: status.value })]);
      const hub = info.hub ?? { fees: { base: "0", ppm: 0 }, forwarded: "0", pending: "0", feesEarned: [] };
      const earned = [];
      for (const fee of hub.feesEarned) earned.push({ amount: fee.amount, info: await assetInfo(fee.asset) });
      stats.replaceChildren(...summary(hub, earned));
      const rows = [];
      for (const forward of page) rows.push(forwardRow(forward, await assetInfo(forward.asset)));
      body.replaceChildren(...(rows.length > 0 ? rows : [el("tr", {}, el("td", { colspan: 7 }, "No forwards yet."))]));
      pageInfo.textContent = `Page ${cursors.length} · ${page.length} forward${page.length === 1 ? "" : "s"}`;
      newer.disabled = cursors.length === 1;
      older.disabled = page.length < PAGE;
      older.onclick = () => {
        cursors = [...cursors, page[page.length - 1].id];
        void refresh();
      };
    } catch (error) {
      showMessage(explain(error));
    }
  });
  newer.addEventListener("click", () => {
    cursors = [undefined];
    void refresh();
  });
  status.addEventListener("change", () => {
    cursors = [undefined];
    void refresh();
  });

  container.append(
    el("h1", {}, "Hub"),
    stats,
    el("section", { class: "card" },
      el("div", { class: "row" }, el("h2", {}, "Forwarded payments"), el("div", { class: "filter" }, el("label", { for: "forward-status" }, "Status"), status)),
      el("div", { class: "table-wrap", tabindex: 0, role: "region", "aria-label": "forwarded payments" },
        el("table", { id: "forwards" },
          el("thead", {}, el("tr", {}, el("th", {}, "When"), el("th", {}, "Hashlock"), el("th", { class: "hide-narrow" }, "In → out channel"), el("th", {}, "In"), el("th", { class: "hide-narrow" }, "Out"), el("th", {}, "Fee"), el("th", {}, "Status"))),
          body,
        ),
      ),
      el("div", { class: "pager" }, newer, older, pageInfo),
    ),
  );
  void refresh();
  return subscribe(["lock.", "stream."], () => void refresh());
}
