// pcap-cli serve: renders the WebSocket feed described in crates/cli/src/serve/mod.rs.
// Plain DOM, no framework. Captured data is only ever inserted with textContent, never as
// HTML, and through safe(): the traffic being watched may be hostile.
"use strict";
(function () {
  const MAX_ROWS = 2000;      // rows kept per list: the DOM stays bounded
  const MAX_PENDING = 4000;   // items held while paused; older ones are dropped
  const $ = (id) => document.getElementById(id);
  const el = {
    filter: $("filter"), pause: $("pause"), clear: $("clear"), status: $("status"),
    packets: $("count-packets"), bytes: $("count-bytes"), tx: $("count-tx"),
    captureDrops: $("count-capture-drops"), viewDrops: $("count-view-drops"), cut: $("count-cut"),
    packetRows: $("packet-rows"), txRows: $("tx-rows"), detail: $("detail-body"),
    packetsShown: $("packets-shown"), txShown: $("tx-shown"),
    packetsScroll: $("packets-scroll"), txScroll: $("tx-scroll"),
  };
  const state = {
    paused: false, pending: [], pendingDropped: 0, query: "", firstTs: null,
    seenPackets: 0, seenBytes: 0, seenTx: 0, stats: null, ended: false, selected: null, retry: 500,
    autoSelect: null,
  };

  // ---- small helpers -------------------------------------------------------------------
  // Control characters and bidi overrides off the wire could hide or reorder what the page
  // shows, as on a terminal: every text goes through safe(), which writes them as \u{..}
  // (the policy of crates/cli/src/render/escape.rs; tab and line breaks are layout here).
  const UNSAFE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
  function safe(text) {
    return text == null ? "" : String(text).replace(UNSAFE, (c) => {
      const n = c.charCodeAt(0);
      return n < 0x80 ? "\\x" + n.toString(16).padStart(2, "0") : "\\u{" + n.toString(16) + "}";
    });
  }
  function td(text, cls) {
    const c = document.createElement("td");
    c.textContent = safe(text);
    if (cls) c.className = cls;
    return c;
  }
  function fmtInt(n) { return Number(n || 0).toLocaleString("en-US"); }
  // Sizes as the terminal writes them (decimal units, one decimal): one unit everywhere.
  function fmtBytes(n) {
    n = Number(n || 0);
    if (n < 1000) return n + " B";
    if (n < 1e6) return (n / 1e3).toFixed(1) + " kB";
    if (n < 1e9) return (n / 1e6).toFixed(1) + " MB";
    return (n / 1e9).toFixed(1) + " GB";
  }

  function tsSeconds(ts) {
    if (typeof ts === "number") return ts;
    if (typeof ts === "string") { const f = parseFloat(ts); return isNaN(f) ? null : f; }
    return null;
  }
  function relTime(ts) {
    const s = tsSeconds(ts);
    if (s == null) return ts == null ? "" : String(ts);
    if (state.firstTs == null) state.firstTs = s;
    return (s - state.firstTs).toFixed(6);
  }
  function header(headers, name) {
    if (!Array.isArray(headers)) return null;
    name = name.toLowerCase();
    for (const h of headers) if (Array.isArray(h) && String(h[0]).toLowerCase() === name) return String(h[1]);
    return null;
  }
  function pick(obj, keys) {
    if (!obj) return undefined;
    for (const k of keys) if (obj[k] !== undefined && obj[k] !== null) return obj[k];
    return undefined;
  }
  function endpoint(addr, port) {
    if (addr == null) return "";
    if (port == null) return String(addr);
    return String(addr).includes(":") ? "[" + addr + "]:" + port : addr + ":" + port;
  }

  // ---- packets -------------------------------------------------------------------------
  const PROTOS = ["websocket", "http", "dns", "icmpv6", "icmp", "arp", "tcp", "udp", "ipv6", "ipv4", "eth"];
  function packetInfo(p) {
    const net = p.ipv4 || p.ipv6 || p.ip || p.arp || null;
    const tr = p.tcp || p.udp || null;
    const src = pick(net, ["src", "saddr", "source", "sender_ip", "spa"]) ?? pick(p.eth, ["src"]);
    const dst = pick(net, ["dst", "daddr", "destination", "target_ip", "tpa"]) ?? pick(p.eth, ["dst"]);
    const sp = pick(tr, ["src_port", "sport", "srcport", "source_port"]);
    const dp = pick(tr, ["dst_port", "dport", "dstport", "destination_port"]);
    let proto = p.proto || "";
    if (!proto) for (const k of PROTOS) if (p[k]) { proto = k; break; }
    const len = p.len ?? p.caplen ?? "";
    // The Source and Destination columns already say who: the Info column drops the
    // summary's leading "mac -> mac" and "ip:port -> ip:port" parts.
    const summary = p.summary
      ? p.summary.replace(/^([0-9a-f]{2}(:[0-9a-f]{2}){5}) -> ([0-9a-f]{2}(:[0-9a-f]{2}){5}) /, "")
          .replace(/^(vlan [0-9, ]+ )?\S+ -> \S+ /, "$1")
      : [proto.toUpperCase(), endpoint(src, sp), "→", endpoint(dst, dp)].join(" ");
    return { src: endpoint(src, sp), dst: endpoint(dst, dp), proto: String(proto), len, summary };
  }
  function packetRow(p) {
    const info = packetInfo(p);
    state.seenPackets++;
    state.seenBytes += Number(p.len || p.caplen || 0);
    const tr = document.createElement("tr");
    const proto = info.proto.toLowerCase();
    tr.append(td(p.frame ?? state.seenPackets, "num"), td(relTime(p.ts), "num"), td(info.src), td(info.dst),
      td(info.proto.toUpperCase(), "p-" + proto.replace(/v6$/, "")), td(info.len, "num"), td(info.summary, "info"));
    tr.title = safe(info.summary);
    tr._search = [info.summary, info.src, info.dst, info.proto].join(" ").toLowerCase();
    tr._item = { kind: "packet", data: p };
    return tr;
  }

  // ---- transactions --------------------------------------------------------------------
  function httpRow(h) {
    const req = h.request || {}, resp = h.response || null;
    const host = header(req.headers, "host") || h.server || "";
    const url = host + (req.uri || "");
    const tr = document.createElement("tr");
    const kind = td("", ""); const badge = document.createElement("span");
    badge.className = "kind k-http"; badge.textContent = "HTTP"; kind.append(badge);
    let status = "no response", scls = "snone";
    if (resp) { status = resp.status + " " + (resp.reason || ""); scls = "s" + String(resp.status).charAt(0); }
    const size = resp ? resp.body_len : req.body_len;
    tr.append(td(relTime(req.ts ?? h.ts), "num"), kind, td((req.method || "?") + " " + url, "info"), td(status, "st " + scls),
      td(size == null ? "" : fmtBytes(size), "num"));
    tr.title = safe((req.method || "") + " " + url);
    tr._search = [req.method, url, host, h.client, h.server, status, header(resp && resp.headers, "content-type")]
      .join(" ").toLowerCase();
    return tr;
  }
  function wsRow(w) {
    const tr = document.createElement("tr");
    const kind = td(""); const badge = document.createElement("span");
    badge.className = "kind k-ws"; badge.textContent = "WS"; kind.append(badge);
    const arrow = w.dir === "s2c" ? "←" : "→";
    const raw = w.text ?? w.body_preview ?? "";
    const body = String(raw).replace(/\s+/g, " ").slice(0, 300);
    const text = arrow + " " + (w.opcode || "") + (body ? " " + body : "");
    tr.append(td(relTime(w.ts), "num"), kind, td(text, "info"), td(w.dir === "s2c" ? "from server" : "to server", "snone"),
      td(w.len == null ? "" : fmtBytes(w.len), "num"));
    tr.title = safe(text);
    tr._search = [text, w.client, w.server, w.opcode].join(" ").toLowerCase();
    return tr;
  }
  // gRPC messages and call status, HTTP/2 RST_STREAM and GOAWAY (the `grpc`, `grpc_status`
  // and `http2` objects of docs/json.md).
  function badgeCell(cls, label) {
    const kind = td(""); const badge = document.createElement("span");
    badge.className = "kind " + cls; badge.textContent = label; kind.append(badge);
    return kind;
  }
  function grpcRow(g) {
    const tr = document.createElement("tr");
    const where = (g.path || "") + (g.h2_stream != null ? "  [h2 " + g.h2_stream + "]" : "");
    let text, status = "", scls = "snone", size = null;
    if (g.type === "grpc_status") {
      const code = g.status == null ? "no status" : "status " + g.status;
      text = "⏹ " + where + "  " + code + (g.message != null ? ": " + g.message : "");
      status = g.status == null ? "?" : g.status === 0 ? "OK" : "error " + g.status;
      scls = g.status === 0 ? "s2" : "s5";
    } else {
      text = (g.dir === "s2c" ? "← " : "→ ") + where + (g.compressed ? "  (compressed)" : "");
      status = g.dir === "s2c" ? "from server" : "to server";
      size = g.len;
    }
    tr.append(td(relTime(g.ts), "num"), badgeCell("k-grpc", "gRPC"), td(text, "info"), td(status, "st " + scls),
      td(size == null ? "" : fmtBytes(size), "num"));
    tr.title = safe(text);
    tr._search = ["grpc", text, g.path, status].join(" ").toLowerCase();
    return tr;
  }
  function h2Row(e) {
    const tr = document.createElement("tr");
    const name = e.event === "goaway" ? "GOAWAY" : "RST_STREAM";
    const who = e.dir === "s2c" ? "by server" : "by client";
    const what = name + " " + (e.error || "") + " " + who +
      (e.h2_stream != null ? "  [h2 " + e.h2_stream + "]" : "") +
      (e.last_stream != null ? "  last stream " + e.last_stream : "");
    tr.append(td(relTime(e.ts), "num"), badgeCell("k-h2", "H2"), td(what, "info"),
      td(e.error || "", e.error === "NO_ERROR" ? "snone" : "st s4"), td("", "num"));
    tr.title = safe(what);
    tr.className = "muted";
    tr._search = ["http2", what, e.client, e.server].join(" ").toLowerCase();
    return tr;
  }
  function tcpRow(t) {
    const tr = document.createElement("tr");
    const kind = td(""); const badge = document.createElement("span");
    badge.className = "kind k-tcp"; badge.textContent = "TCP"; kind.append(badge);
    const what = t.summary || [t.event, t.client, t.server && "→ " + t.server].filter(Boolean).join(" ") || JSON.stringify(t);
    tr.append(td(relTime(t.ts), "num"), kind, td(what, "info"), td(t.reason || t.state || "", "snone"),
      td(t.bytes == null ? "" : fmtBytes(t.bytes), "num"));
    tr.title = safe(what);
    tr.className = "muted";
    tr._search = [what, t.client, t.server].join(" ").toLowerCase();
    return tr;
  }

  // ---- rendering -----------------------------------------------------------------------
  function atBottom(box) { return box.scrollHeight - box.scrollTop - box.clientHeight < 30; }
  function appendRows(tbody, box, rows) {
    if (!rows.length) return;
    const stick = atBottom(box);
    const frag = document.createDocumentFragment();
    for (const r of rows) { r.hidden = !matches(r); frag.append(r); }
    tbody.append(frag);
    let extra = tbody.rows.length - MAX_ROWS;
    while (extra-- > 0) {
      if (tbody.firstElementChild === state.selected) state.selected = null;
      tbody.firstElementChild.remove();
    }
    if (stick) box.scrollTop = box.scrollHeight;
  }
  function render(items) {
    const pk = [], tx = [];
    for (const it of items) {
      const d = it && it.data;
      if (!d || typeof d !== "object") continue;
      let row;
      try {
        if (it.kind === "packet") { pk.push(packetRow(d)); continue; }
        if (it.kind === "http") row = httpRow(d);
        else if (it.kind === "websocket") row = wsRow(d);
        else if (it.kind === "tcp") row = tcpRow(d);
        else if (it.kind === "grpc") row = grpcRow(d);
        else if (it.kind === "http2") row = h2Row(d);
        else continue;
      } catch (e) { continue; } // one odd item must not stop the feed
      state.seenTx++;
      row._item = it;
      tx.push(row);
    }
    appendRows(el.packetRows, el.packetsScroll, pk);
    appendRows(el.txRows, el.txScroll, tx);
    updateShown();
    if (state.autoSelect) {
      const visible = Array.from(el.txRows.rows).filter((r) => !r.hidden);
      const row = visible[state.autoSelect - 1];
      if (row) { state.autoSelect = null; showDetail(row); }
    }
  }
  function matches(row) { return !state.query || row._search.includes(state.query); }
  function applyFilter() {
    state.query = el.filter.value.trim().toLowerCase();
    for (const tbody of [el.packetRows, el.txRows]) for (const r of tbody.rows) r.hidden = !matches(r);
    updateShown();
  }
  function shown(tbody) {
    if (!state.query) return tbody.rows.length + " rows";
    let n = 0;
    for (const r of tbody.rows) if (!r.hidden) n++;
    return n + " of " + tbody.rows.length + " match";
  }
  function updateShown() {
    el.packetsShown.textContent = shown(el.packetRows);
    el.txShown.textContent = shown(el.txRows);
    updateCounters();
  }
  function updateCounters() {
    const s = state.stats || {};
    el.packets.textContent = fmtInt(Math.max(s.packets || 0, state.seenPackets));
    el.bytes.textContent = fmtBytes(Math.max(s.bytes || 0, state.seenBytes));
    el.tx.textContent = fmtInt(state.seenTx);
    el.captureDrops.textContent = fmtInt(s.capture_drops || 0);
    el.captureDrops.classList.toggle("alert", (s.capture_drops || 0) > 0);
    const view = (s.view_drops || 0) + state.pendingDropped;
    el.viewDrops.textContent = fmtInt(view);
    el.viewDrops.classList.toggle("alert", view > 0);
    el.cut.textContent = fmtInt(s.cut || 0);
    el.cut.classList.toggle("alert", (s.cut || 0) > 0);
  }

  // ---- details -------------------------------------------------------------------------
  function h3(text) { const h = document.createElement("h3"); h.textContent = safe(text); return h; }
  function para(text, cls) { const p = document.createElement("p"); p.textContent = safe(text); if (cls) p.className = cls; return p; }
  function pre(text) { const p = document.createElement("pre"); p.textContent = safe(text); return p; }
  function headerTable(headers) {
    const t = document.createElement("table");
    for (const h of Array.isArray(headers) ? headers : []) {
      const tr = document.createElement("tr");
      tr.append(td(Array.isArray(h) ? h[0] : ""), td(Array.isArray(h) ? h[1] : String(h)));
      t.append(tr);
    }
    return t;
  }
  // The payload as tcpdump -X lays it out: offset, 16 bytes in groups of two, then the
  // bytes as ASCII with "." for all but printable ones (so nothing needs escaping). Only
  // hex digits are read from the string; anything else ends the dump.
  function hexDump(hex) {
    const lines = [];
    const bytes = [];
    for (let i = 0; i + 1 < hex.length; i += 2) {
      const b = parseInt(hex.substr(i, 2), 16);
      if (Number.isNaN(b)) break;
      bytes.push(b);
    }
    for (let off = 0; off < bytes.length; off += 16) {
      const row = bytes.slice(off, off + 16);
      let hexPart = "";
      row.forEach((b, k) => { hexPart += (k % 2 === 0 ? " " : "") + b.toString(16).padStart(2, "0"); });
      const ascii = row.map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : ".")).join("");
      lines.push("0x" + off.toString(16).padStart(4, "0") + ": " + hexPart.padEnd(40) + "  " + ascii);
    }
    return lines.join("\n");
  }
  function showDetail(row) {
    if (state.selected) state.selected.classList.remove("sel");
    state.selected = row; row.classList.add("sel");
    const { kind, data: d, cut } = row._item;
    const out = [];
    if (cut) {
      out.push(para("Too large to show whole: " + fmtInt(cut.strings) + " long values cut (each ends with …[N bytes cut]), " +
        fmtInt(cut.elements) + " list entries left out, " + fmtBytes(cut.bytes) + " not shown.", "hint cut"));
    }
    if (kind === "http") {
      const req = d.request || {}, resp = d.response;
      out.push(h3((req.method || "") + " " + (req.uri || "") + " " + (req.version || "")));
      out.push(para((d.client || "?") + " → " + (d.server || "?") + (d.stream != null ? "  ·  stream " + d.stream : "") +
        (d.h2_stream != null ? "  ·  HTTP/2 stream " + d.h2_stream : ""), "meta"));
      out.push(headerTable(req.headers));
      const reqBody = req.body_preview ?? null;
      if (req.body_len) out.push(para("Request body: " + fmtBytes(req.body_len), "meta"));
      if (reqBody != null && reqBody !== "") out.push(pre(String(reqBody)));
      if (resp) {
        out.push(h3((resp.version || "") + " " + resp.status + " " + (resp.reason || "")));
        out.push(headerTable(resp.headers));
        if (resp.body_len != null) out.push(para("Response body: " + fmtBytes(resp.body_len), "meta"));
        const body = resp.body_preview ?? d.body_preview ?? null;
        if (body != null && body !== "") out.push(pre(String(body)));
      } else {
        out.push(para("No response seen.", "hint"));
      }
    } else if (kind === "websocket") {
      out.push(h3("WebSocket " + (d.opcode || "") + " " + (d.dir === "s2c" ? "server → client" : "client → server")));
      out.push(para((d.client || "?") + " ↔ " + (d.server || "?") + "  ·  " + fmtBytes(d.len) +
        (d.h2_stream != null ? "  ·  HTTP/2 stream " + d.h2_stream : ""), "meta"));
      const body = d.text ?? d.body_preview ?? null;
      if (body != null) out.push(pre(String(body)));
    } else if (kind === "grpc") {
      const head = d.type === "grpc_status" ? "gRPC status " + (d.status ?? "none") : "gRPC message " +
        (d.dir === "s2c" ? "server → client" : "client → server");
      out.push(h3(head));
      out.push(para((d.path || "") + "  ·  stream " + (d.stream ?? "?") + "  ·  HTTP/2 stream " + (d.h2_stream ?? "?"), "meta"));
      if (d.type === "grpc_status") {
        if (d.message != null) out.push(pre(String(d.message)));
        out.push(para(d.trailers_only ? "Trailers-only response (the call failed before any message)." : "From the trailers.", "meta"));
      } else {
        out.push(para(fmtBytes(d.len) + (d.compressed ? ", compressed" : "") +
          (d.decoded_len != null ? ", " + fmtBytes(d.decoded_len) + " decoded" : ""), "meta"));
      }
    } else if (kind === "http2") {
      out.push(h3((d.event === "goaway" ? "GOAWAY " : "RST_STREAM ") + (d.error || "") + (d.dir === "s2c" ? " by server" : " by client")));
      out.push(para((d.client || "?") + " ↔ " + (d.server || "?") + (d.h2_stream != null ? "  ·  HTTP/2 stream " + d.h2_stream : "") +
        (d.last_stream != null ? "  ·  last stream " + d.last_stream : ""), "meta"));
      out.push(pre(JSON.stringify(d, null, 2)));
    } else {
      out.push(h3(kind === "packet" ? "Frame " + (d.frame ?? "") : "TCP event"));
      if (d.summary) out.push(para(d.summary, "meta"));
      if (kind === "packet" && d.payload_hex) {
        const bytes = d.payload_hex.length / 2;
        out.push(para("Payload: " + fmtBytes(bytes) + (d.payload_hex_cut ? " shown, the rest cut" : ""), "meta"));
        out.push(pre(hexDump(d.payload_hex)));
      }
      const rest = Object.assign({}, d);
      delete rest.payload_hex;
      out.push(pre(JSON.stringify(rest, null, 2)));
    }
    el.detail.replaceChildren(...out);
  }
  for (const tbody of [el.packetRows, el.txRows]) {
    tbody.addEventListener("click", (e) => {
      const row = e.target.closest("tr");
      if (row && row._item) showDetail(row);
    });
  }

  // ---- controls ------------------------------------------------------------------------
  el.filter.addEventListener("input", applyFilter);
  el.pause.addEventListener("click", () => {
    state.paused = !state.paused;
    el.pause.classList.toggle("on", state.paused);
    if (!state.paused) {
      const items = state.pending; state.pending = [];
      render(items);
    }
    updatePauseLabel();
  });
  function updatePauseLabel() {
    el.pause.textContent = state.paused ? "Resume (" + state.pending.length + ")" : "Pause";
  }
  el.clear.addEventListener("click", () => {
    el.packetRows.replaceChildren(); el.txRows.replaceChildren(); state.pending = [];
    state.selected = null; updateShown(); updatePauseLabel();
  });

  // ---- feed ----------------------------------------------------------------------------
  function setStatus(text, cls) { el.status.textContent = text; el.status.className = "status " + cls; }
  function onMessage(ev) {
    let msg;
    try { msg = JSON.parse(ev.data); } catch (e) { return; }
    if (msg.stats) {
      state.stats = msg.stats;
      if (msg.stats.ended && !state.ended) { state.ended = true; setStatus("capture ended", "ended"); }
    }
    const items = Array.isArray(msg.items) ? msg.items : [];
    if (state.paused) {
      for (const it of items) state.pending.push(it);
      const over = state.pending.length - MAX_PENDING;
      if (over > 0) { state.pending.splice(0, over); state.pendingDropped += over; }
      updatePauseLabel(); updateCounters();
    } else if (items.length) {
      render(items);
    } else {
      updateCounters();
    }
  }
  function connect() {
    // The cookie set by the first load carries the token; the URL's ?token= is passed on too,
    // for a browser that keeps no cookies.
    const token = new URLSearchParams(location.search).get("token");
    const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws" +
      (token ? "?token=" + encodeURIComponent(token) : ""));
    ws.onopen = () => {
      state.retry = 500;
      // The server replays its history on every connection: start from a clean slate.
      el.packetRows.replaceChildren(); el.txRows.replaceChildren(); state.pending = [];
      state.seenPackets = 0; state.seenBytes = 0; state.seenTx = 0; state.selected = null;
      if (!state.ended) setStatus("live", "live");
    };
    ws.onmessage = onMessage;
    ws.onclose = () => {
      setStatus("disconnected, retrying", "down");
      state.ended = false;
      setTimeout(connect, state.retry);
      state.retry = Math.min(state.retry * 2, 5000);
    };
  }
  // Links can open a prepared view: ?filter=TEXT fills the filter box, ?select=N opens the
  // details of the Nth visible transaction once it has arrived.
  const params = new URLSearchParams(location.search);
  if (params.has("filter")) { el.filter.value = params.get("filter"); applyFilter(); }
  state.autoSelect = parseInt(params.get("select"), 10) || null;
  updateShown();
  connect();
})();
