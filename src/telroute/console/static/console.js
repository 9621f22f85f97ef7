// The telroute console. Everything user-supplied is put into the page as text (textContent), never as markup.
"use strict";
(function () {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const app = document.getElementById("app");
  const state = { query: "", open: null };

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (name === "text") node.textContent = value;
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value);
    }
    for (const child of children) if (child) node.append(child);
    return node;
  }

  async function getJson(path) {
    const response = await fetch(path, { credentials: "same-origin", headers: { Accept: "application/json" } });
    const body = await response.json();
    if (!response.ok) throw new Error(errorText(body));
    return body;
  }

  async function postJson(path, value) {
    const response = await fetch(path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(value || {}),
    });
    const body = await response.json();
    if (!response.ok) throw new Error(errorText(body));
    return body;
  }

  function errorText(body) {
    return body && body.errors && body.errors[0] ? body.errors[0].detail : "the request failed";
  }

  function status(node, text, isError) {
    node.textContent = text;
    node.className = isError ? "error" : "status";
  }

  // ---- messages: list, search, live updates ----
  const listStatus = el("p", { class: "status", role: "status", "aria-live": "polite" });
  const list = el("ol", { class: "messages", "aria-label": "Messages" });
  const more = el("button", { type: "button", hidden: "", onclick: () => serially(() => loadMessages(true)), text: "Older messages" });
  const detail = el("section", { class: "detail", "aria-label": "Message", tabindex: "-1" });
  const search = el("input", { id: "search", type: "search", placeholder: "to:1206… from: status:delivered is:mms after:2026-01-01 words" });

  function messageItem(message) {
    const button = el(
      "button",
      { type: "button", class: "message-row", "data-id": message.id, onclick: () => openMessage(message.id) },
      el("span", { class: "direction " + message.direction, text: message.direction === "inbound" ? "⇠ in" : "⇢ out" }),
      el("span", { class: "numbers", text: message.from + " → " + message.to }),
      el("span", { class: "badge " + message.status.replace(/\s+/g, "-"), text: message.status }),
      message.is_mms ? el("span", { class: "badge mms", text: "MMS" }) : null,
      el("span", { class: "body", text: message.body }),
      el("time", { text: message.timestamp }),
    );
    return el("li", {}, button);
  }

  const PAGE = 50, MERGE_PAGES = 4;
  const rows = new Map(); // message id -> its <li>, for every message in the list
  let pending = Promise.resolve(); // list updates run one after another, never interleaved

  function serially(update) {
    pending = pending.then(update, update);
    return pending;
  }

  function row(message) {
    const item = messageItem(message);
    rows.set(message.id, item);
    return item;
  }

  function fetchPage(offset) {
    return getJson("/console/api/messages?q=" + encodeURIComponent(state.query) + "&offset=" + offset);
  }

  function countShown() {
    const shown = list.children.length;
    status(listStatus, shown ? shown + " message" + (shown === 1 ? "" : "s") : "No messages yet. Send one!", false);
  }

  async function loadMessages(older) {
    try {
      const page = await fetchPage(older ? list.children.length : 0);
      if (!older) { list.replaceChildren(); rows.clear(); }
      for (const message of page.messages) if (!rows.has(message.id)) list.append(row(message));
      more.hidden = !page.more;
      countShown();
    } catch (error) {
      status(listStatus, error.message, true);
    }
  }

  // A live change: new messages go on top and changed ones are redrawn in place, so the older pages the
  // user loaded stay. Reads pages from the newest until one reaches a message already shown.
  async function mergeNewest() {
    if (!rows.size) return loadMessages(false);
    try {
      const fresh = [];
      let reached = false, page = null;
      for (let offset = 0; offset < MERGE_PAGES * PAGE && !reached; offset += PAGE) {
        page = await fetchPage(offset);
        fresh.push(...page.messages);
        reached = !page.more || page.messages.some((message) => rows.has(message.id));
      }
      if (!reached) return loadMessages(false); // too many new ones to fill the gap: start over
      // The pages read are the newest, in order, down to a message shown: they replace the top of the list.
      const items = fresh.map((message) => { rows.get(message.id)?.remove(); return row(message); });
      list.prepend(...items);
      countShown();
    } catch (error) {
      status(listStatus, error.message, true);
    }
  }

  // ---- one message ----
  function segmentsView(segments) {
    const forcing = new Set(segments.ucs2_characters);
    const box = el("div", { class: "segments" });
    segments.parts.forEach((part, index) => {
      const span = el("span", { class: "segment", title: "part " + (index + 1) });
      for (const char of part) span.append(forcing.has(char) ? el("mark", { title: "needs UCS-2", text: char }) : char);
      box.append(el("span", { class: "segment-label", text: "#" + (index + 1) }), span);
    });
    return box;
  }

  function table(caption, headings, rows) {
    const head = el("tr", {}, ...headings.map((h) => el("th", { scope: "col", text: h })));
    const body = rows.map((cells) => el("tr", {}, ...cells.map((c) => el("td", {}, c instanceof Node ? c : String(c ?? "")))));
    return el("table", {}, el("caption", { text: caption }), el("thead", {}, head), el("tbody", {}, ...body));
  }

  function replayButton(letter) {
    if (letter.replayed) return "replayed";
    const button = el("button", { type: "button", text: "Replay" });
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        await postJson("/console/api/dead-letters/" + letter.id + "/replay");
        button.replaceWith("replayed");
      } catch (error) {
        button.replaceWith(el("span", { class: "error", text: error.message }));
      }
    });
    return button;
  }

  function renderMessage(m) {
    const facts = el(
      "dl",
      {},
      el("dt", { text: "From" }), el("dd", { text: m.from }),
      el("dt", { text: "To" }), el("dd", { text: m.to }),
      el("dt", { text: "Status" }), el("dd", { class: "message-status", text: m.status }),
      el("dt", { text: "Encoding" }), el("dd", { text: m.segments.encoding }),
      el("dt", { text: "Segments" }), el("dd", { text: String(m.segment_count) }),
      el("dt", { text: "Price" }), el("dd", { text: m.price }),
      el("dt", { text: "Sent" }), el("dd", { text: m.timestamp }),
    );
    const media = el("div", { class: "media" }, ...m.media.map((item) =>
      item.mime_type.startsWith("image/")
        ? el("img", { src: "/console/api/media/" + encodeURIComponent(item.id), alt: item.file_name })
        : el("span", { text: item.file_name + " (" + item.mime_type + ")" })));
    const receipts = table("Receipts", ["Level", "Status", "Code", "Description", "Time"],
      m.receipts.map((r) => [r.level, r.status, r.code, r.description, r.timestamp]));
    const callbacks = table("Callbacks", ["Event", "URL", "Try", "Response", "Latency (ms)", "Error", "Time"],
      m.callbacks.map((c) => [c.event, c.url, c.attempt, c.status_code, c.latency_ms === null ? "" : Math.round(c.latency_ms), c.error, c.timestamp]));
    const dead = table("Dead letters", ["Event", "URL", "Tries", "Last error", "Payload", ""],
      m.dead_letters.map((d) => [d.event, d.url, d.attempts, d.last_error, el("details", {}, el("summary", { text: "payload" }), el("code", { text: d.payload })), replayButton(d)]));
    const thread = el("button", { type: "button", text: "Conversation " + m.from + " ⇄ " + m.to, onclick: () => openConversation(m.from, m.to) });
    detail.replaceChildren(
      el("h2", { text: "Message " + m.id }),
      el("p", { class: "body-text", text: m.body }),
      segmentsView(m.segments),
      facts, media, receipts, callbacks, ...(m.dead_letters.length ? [dead] : []), thread,
    );
  }

  async function openMessage(id) {
    state.open = { kind: "message", id };
    try {
      renderMessage(await getJson("/console/api/messages/" + encodeURIComponent(id)));
      detail.focus();
    } catch (error) {
      detail.replaceChildren(el("p", { class: "error", role: "alert", text: error.message }));
    }
  }

  async function openConversation(a, b) {
    state.open = { kind: "conversation", a, b };
    const thread = await getJson("/console/api/conversation?a=" + encodeURIComponent(a) + "&b=" + encodeURIComponent(b));
    const items = thread.messages.map((m) =>
      el("li", { class: "bubble " + (m.from === a ? "left" : "right") },
        el("span", { class: "body", text: m.body }), el("time", { text: m.timestamp + " · " + m.status })));
    detail.replaceChildren(el("h2", { text: "Conversation " + a + " ⇄ " + b }), el("ol", { class: "thread" }, ...items));
  }

  function refreshOpen() {
    const open = state.open;
    if (open && open.kind === "message") openMessage(open.id);
    else if (open && open.kind === "conversation") openConversation(open.a, open.b);
  }

  // ---- compose, numbers, calculator ----
  function field(id, label, attrs) {
    return [el("label", { for: id, text: label }), el(attrs && attrs.multiline ? "textarea" : "input", { id, name: id, ...(attrs || {}) })];
  }

  function composeView() {
    const result = el("p", { class: "status", role: "status", "aria-live": "polite" });
    const form = el("form", { class: "card", "aria-label": "Compose" },
      el("h2", { text: "Compose" }),
      ...field("compose-from", "From (one of your numbers)", { required: "" }),
      ...field("compose-to", "To", { required: "" }),
      ...field("compose-body", "Text", { multiline: "1", required: "" }),
      el("button", { type: "submit", text: "Send" }),
      el("button", { type: "button", class: "secondary", text: "Simulate a reply to the From number", onclick: () => submit(true) }),
      result);
    async function submit(inbound) {
      const from = form.querySelector("#compose-from").value, to = form.querySelector("#compose-to").value;
      const body = form.querySelector("#compose-body").value;
      try {
        const sent = inbound
          ? await postJson("/console/api/inbound", { from: to, to: from, body })
          : await postJson("/console/api/messages", { from, to, body });
        status(result, (inbound ? "Received " : "Sent ") + sent.id, false);
      } catch (error) {
        status(result, error.message, true);
      }
    }
    form.addEventListener("submit", (event) => { event.preventDefault(); submit(false); });
    return form;
  }

  function lines(className, texts) {
    return el("span", { class: "lines " + className }, ...texts.map((text) => el("span", { text })));
  }

  function callbacksCell(callbacks) {
    const set = [["SMS", callbacks.sms_callback], ["MMS", callbacks.mms_callback], ["DLR", callbacks.sms_dlr_callback]].filter(([, url]) => url);
    return lines("callbacks", set.map(([kind, url]) => kind + ": " + url));
  }

  function numbersView() {
    const box = el("section", { class: "card", "aria-label": "Numbers" }, el("h2", { text: "Numbers" }));
    getJson("/console/api/numbers").then((found) => {
      box.append(table("Your numbers, their callbacks, E911 addresses and caller names",
        ["Number", "Alias", "Callbacks", "E911 address", "CNAM"],
        found.numbers.map((n) => [n.value, n.alias, callbacksCell(n.callbacks), n.e911 ? lines("e911", [n.e911.label, n.e911.address]) : "", n.cnam])));
    }, (error) => box.append(el("p", { class: "error", text: error.message })));
    return box;
  }

  function calculatorView() {
    const out = el("div", { role: "status", "aria-live": "polite" });
    const [label, input] = field("draft", "Draft text", { multiline: "1" });
    input.addEventListener("input", async () => {
      const result = await getJson("/console/api/calculate?text=" + encodeURIComponent(input.value));
      out.replaceChildren(el("p", { text: result.encoding + " · " + result.segment_count + " segment(s) · " + result.price }), segmentsView(result));
    });
    return el("section", { class: "card", "aria-label": "Calculator" }, el("h2", { text: "Segments and price" }), label, input, out);
  }

  // ---- operator ----
  function chart(values) {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    const top = Math.max(...values) || 1;
    svg.setAttribute("viewBox", "0 0 " + values.length * 10 + " 50");
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", "Messages per second, last 15 minutes: " + values.join(", "));
    values.forEach((value, index) => {
      const bar = document.createElementNS(ns, "rect");
      const height = (value / top) * 48;
      bar.setAttribute("x", index * 10 + 1); bar.setAttribute("width", 8);
      bar.setAttribute("y", 50 - height); bar.setAttribute("height", height);
      svg.append(bar);
    });
    return svg;
  }

  async function operatorView() {
    const o = await getJson("/console/api/operator");
    const peak = Math.max(...o.messages_per_second);
    app.replaceChildren(el("div", { class: "operator" },
      el("section", { class: "card" }, el("h2", { text: "Messages per second (last 15 minutes)" }), chart(o.messages_per_second),
        el("p", { class: "status", text: "one bar a minute, the newest on the right; peak " + peak + "/s" })),
      el("section", { class: "card" },
        el("p", { text: "Jobs queued: " + o.jobs.depth + " · pending dead letters: " + o.dead_letters }),
        table("SMPP links", ["Carrier", "Held by", "State"], o.links.map((l) => [l.carrier, l.holder, l.state])),
        table("Accounts", ["Access key", "Name"], o.accounts.map((a) => [a.access_key, a.name])))));
  }

  // ---- layout ----
  function accountView() {
    const panes = { Messages: null, Compose: composeView, Numbers: numbersView, Calculator: calculatorView };
    const side = el("div", { class: "side" });
    const tabs = el("nav", { "aria-label": "Views" }, ...Object.keys(panes).map((name) =>
      el("button", { type: "button", text: name, onclick: () => side.replaceChildren(name === "Messages" ? detail : panes[name]()) })));
    const searchForm = el("form", { role: "search" }, el("label", { for: "search", text: "Search" }), search);
    searchForm.addEventListener("submit", (event) => { event.preventDefault(); state.query = search.value; serially(() => loadMessages(false)); });
    side.append(detail);
    app.replaceChildren(tabs, el("div", { class: "columns" }, el("section", { class: "inbox" }, searchForm, listStatus, list, more), side));
    serially(() => loadMessages(false));
    const live = new EventSource("/console/api/stream");
    live.addEventListener("change", () => { serially(mergeNewest); refreshOpen(); });
    setInterval(refreshOpen, 2000);
  }

  if (document.body.dataset.view === "operator") operatorView().catch((e) => app.replaceChildren(el("p", { class: "error", text: e.message })));
  else accountView();
})();
