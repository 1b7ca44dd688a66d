// Shared by the buyer's and the agent's chat pages. Messages are rendered with
// textContent only: whatever a buyer or agent typed is shown as text, never as markup.
"use strict";

window.HelpdeskChat = (function () {
  function newClientId() {
    return (window.crypto && crypto.randomUUID) ? crypto.randomUUID()
      : Date.now().toString(36) + Math.random().toString(36).slice(2);
  }

  // Times in the viewer's zone: an agent's saved zone (data-time-zone on <html>), else the browser's.
  function formatTime(iso) {
    const when = new Date(iso);
    const options = { dateStyle: "short", timeStyle: "short" };
    const zone = document.documentElement.dataset.timeZone;
    if (zone) options.timeZone = zone;
    try {
      return isNaN(when) ? "" : when.toLocaleString(document.documentElement.lang || undefined, options) +
        (zone ? " " + zone : "");
    } catch (e) {
      return when.toLocaleString();
    }
  }

  // Typing notices: "typing" while keys come, "stopped" after 3 s of quiet, an emptied box
  // or a send. The receiving side also hides the notice by itself after 6 s of silence.
  function typingNotifier(box, notify) {
    let typing = false;
    let idle = null;
    function stop() {
      clearTimeout(idle);
      if (typing) { typing = false; notify(false); }
    }
    box.addEventListener("input", function () {
      if (!box.value.trim()) { stop(); return; }
      if (!typing) { typing = true; notify(true); }
      clearTimeout(idle);
      idle = setTimeout(stop, 3000);
    });
    return stop;
  }

  function typingIndicator(element) {
    let timer = null;
    return function (on) {
      clearTimeout(timer);
      element.hidden = !on;
      if (on) timer = setTimeout(function () { element.hidden = true; }, 6000);
    };
  }

  // The composer: sends the trimmed text through send(text), then empties the box and
  // stops the typing notice. Enter sends, Shift+Enter starts a new line. What is being
  // written is kept in this tab's session storage under draftKey, so a reload keeps it.
  function bindComposer(form, box, errorBox, send, stopTyping, draftKey) {
    function saveDraft() {
      try { if (box.value) sessionStorage.setItem(draftKey, box.value); else sessionStorage.removeItem(draftKey); }
      catch (e) { /* no storage: drafts are simply not kept */ }
    }
    try { if (!box.value) box.value = sessionStorage.getItem(draftKey) || ""; } catch (e) { /* as above */ }
    box.addEventListener("input", saveDraft);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      errorBox.hidden = true;
      const text = box.value.trim();
      if (!text) return;
      send(text);
      box.value = "";
      saveDraft();
      stopTyping();
    });
    box.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
  }

  // An attachment: images as a thumbnail linking to the file, PDFs as a named link. The
  // server decided the type from the content; names are shown as text.
  function attachmentLink(a) {
    const link = document.createElement("a");
    link.className = "attachment";
    link.href = a.url;
    link.target = "_blank";
    link.rel = "noopener";
    if (a.content_type.indexOf("image/") === 0) {
      const image = document.createElement("img");
      image.src = a.url;
      image.alt = a.name;
      link.append(image);
    } else {
      link.textContent = "📄 " + a.name + " (" + Math.max(1, Math.round(a.size / 1024)) + " KB)";
    }
    return link;
  }

  // Upload a file to the conversation, then send it as a message. headers carry the
  // buyer's token or the agent's CSRF token.
  // extra() gives the message's other fields at send time (an agent's internal flag).
  function bindAttach(input, url, headers, thread, onError, extra) {
    input.addEventListener("change", function () {
      const file = input.files[0];
      input.value = "";
      if (!file) return;
      const form = new FormData();
      form.append("file", file);
      fetch(url, { method: "POST", headers: headers, body: form }).then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (data) {
          if (!response.ok) { onError(data.error || { message: response.statusText }); return; }
          onError(false);
          thread.send("", Object.assign({ attachments: [data.attachment.id] }, extra ? extra() : {}),
            "📎 " + data.attachment.name);
        });
      }).catch(function () { onError(null); });
    });
  }

  // A conversation view: keeps messages in seq order, resends unacknowledged ones with
  // their client_id after a reconnect (the server stores each once), and asks for
  // everything after the last seq it saw whenever the connection comes back.
  function Thread(options) {
    this.list = options.list;
    this.socket = options.socket;
    this.mine = options.mine;            // function(message) -> true when sent from this side
    this.scope = options.scope || {};    // extra payload fields ({conversation: id} for agents)
    this.onError = options.onError || function () {};
    // Translations: shown instead of the original (with a toggle) for the other side's
    // messages; markers ("No translation for pt→en") only where showMarkers (agents).
    this.preferTranslation = options.preferTranslation || function () { return false; };
    this.showMarkers = Boolean(options.showMarkers);
    this.lastSeq = 0;
    this.shown = new Map();
    this.pending = new Map();
    this.early = new Map();              // translations that came before their message
    const self = this;
    this.socket.on("connect", function () { self.resume(); self.flush(); });
    this.socket.on("message", function (m) { self.show(m); });
    this.socket.on("read", function (r) { self.markRead(r.seq); });
    this.socket.on("message:translated", function (t) {
      if (self.scope.conversation && t.conversation !== self.scope.conversation) return;
      const item = self.shown.get(t.seq);
      if (item) self.translate(item, t); else self.early.set(t.seq, t);
    });
  }

  Thread.prototype.show = function (m) {
    if (this.shown.has(m.seq)) return;
    const item = document.createElement("li");
    item.className = "msg " + m.sender + (m.internal ? " internal" : "") + (this.mine(m) ? " mine" : "");
    item.dataset.seq = m.seq;
    const meta = document.createElement("div");
    meta.className = "meta";
    // name and time each isolated (U+2068…U+2069): in an Arabic page a Latin name or a date
    // with its own marks keeps its order and the separators stay between them
    meta.textContent = "\u2068" + (m.agent_name || (m.sender === "buyer" ? this.list.dataset.buyerLabel : "")) + "\u2069" +
      (m.internal ? " · " + this.list.dataset.noteLabel : "") + " · \u2068" + formatTime(m.created_at) + "\u2069";
    const body = document.createElement("div");
    body.className = "body";
    body.dir = "auto";
    body.textContent = m.body;
    item.append(meta, body);
    item.dataset.preferTranslation = this.preferTranslation(m) ? "1" : "";
    const self = this;
    (m.translations || []).concat(this.early.has(m.seq) ? [this.early.get(m.seq)] : []).forEach(function (t) {
      self.translate(item, t);
    });
    this.early.delete(m.seq);
    (m.attachments || []).forEach(function (a) { item.append(attachmentLink(a)); });
    const pending = this.pending.get(m.client_id);
    if (pending && pending.element) pending.element.remove();
    const after = Array.from(this.list.children).find(function (li) { return Number(li.dataset.seq) > m.seq; });
    this.list.insertBefore(item, after || null);
    this.shown.set(m.seq, item);
    this.lastSeq = Math.max(this.lastSeq, m.seq);
    item.scrollIntoView({ block: "end" });
  };

  // Show a translation t ({lang, status, text, engine, note}) in a message's item: as the
  // main text with a toggle to the original, or beside the original ("The buyer reads
  // (pt)"); a marker when there is none. Text only, never markup.
  Thread.prototype.translate = function (item, t) {
    const labels = this.list.dataset;
    const body = item.querySelector(".body");
    const old = item.querySelector(".translation");
    if (old) { old.remove(); body.hidden = false; }
    if (!item.dataset.preferTranslation && !labels.readsAs) return;  // buyers: not their own words translated
    const box = document.createElement("div");
    box.className = "translation";
    if (t.status !== "translated") {
      if (!this.showMarkers) return;
      box.classList.add("missing");
      // "No translation for pt→en" in the page's language; other notes as stored
      box.textContent = t.status === "unavailable" && labels.noTranslation
        ? labels.noTranslation.replace("{pair}", "\u2068" + (t.source_lang || "?") + "→" + t.lang + "\u2069") : t.note;
      body.after(box);
      return;
    }
    const text = document.createElement("div");
    text.className = "translated-text";
    text.dir = "auto";
    text.lang = t.lang;
    text.textContent = t.text;
    const note = document.createElement("div");
    note.className = "translation-note";
    if (item.dataset.preferTranslation) {
      body.hidden = true;
      const toggle = document.createElement("button");
      toggle.type = "button";
      toggle.className = "link toggle-original";
      toggle.textContent = labels.showOriginal;
      toggle.addEventListener("click", function () {
        const toOriginal = body.hidden;
        body.hidden = !toOriginal;
        text.hidden = toOriginal;
        toggle.textContent = toOriginal ? labels.showTranslation : labels.showOriginal;
      });
      note.append((t.engine === "agent" ? labels.agentTranslated : labels.machineTranslated) + " · ", toggle);
      box.append(text, note);
    } else {
      box.classList.add("aside");
      note.textContent = labels.readsAs.replace("{lang}", t.lang);
      box.append(note, text);
    }
    body.after(box);
  };

  // The other side has read up to seq: mark this side's messages up to there as seen.
  Thread.prototype.markRead = function (seq) {
    const label = this.list.dataset.seenLabel;
    this.shown.forEach(function (item, itemSeq) {
      if (itemSeq <= seq && item.classList.contains("mine") && !item.classList.contains("seen") &&
          !item.classList.contains("internal")) {  // the buyer never sees notes
        item.classList.add("seen");
        const mark = document.createElement("span");
        mark.className = "seen-mark";
        mark.textContent = " · " + label;
        item.querySelector(".meta").append(mark);
      }
    });
  };

  Thread.prototype.resume = function () {
    const self = this;
    this.socket.emit("history", Object.assign({ after_seq: this.lastSeq }, this.scope), function (ack) {
      if (!ack || !ack.ok) { self.onError(ack && ack.error); return; }
      ack.messages.forEach(function (m) { self.show(m); });
      if (self.onHistory) self.onHistory(ack);
    });
  };

  Thread.prototype.send = function (text, extra, label) {
    const clientId = newClientId();
    const element = document.createElement("li");
    element.className = "msg pending mine";
    element.dir = "auto";
    element.dataset.state = this.list.dataset.sendingLabel || "…";
    element.textContent = label || text;
    this.list.append(element);
    this.pending.set(clientId, { body: text, extra: extra || {}, element: element });
    this.flushOne(clientId);
  };

  Thread.prototype.flushOne = function (clientId) {
    const self = this;
    const item = this.pending.get(clientId);
    if (!item || !this.socket.connected) return;
    const payload = Object.assign({ client_id: clientId, body: item.body }, this.scope, item.extra);
    this.socket.timeout(10000).emit("message:send", payload, function (err, ack) {
      if (err) return;  // no answer: kept pending, resent with the same client_id on reconnect
      if (!ack.ok) {
        self.pending.delete(clientId);
        item.element.classList.remove("pending");
        item.element.classList.add("failed");
        self.onError(ack.error, item.body);
        return;
      }
      self.show(ack.message);
      self.pending.delete(clientId);
    });
  };

  Thread.prototype.flush = function () {
    const self = this;
    Array.from(this.pending.keys()).forEach(function (id) { self.flushOne(id); });
  };

  // One Socket.IO connection per console page, shared by the presence heartbeat, the
  // inbox and the conversation view.
  let agentSocket = null;
  function socket() {
    if (!agentSocket) agentSocket = io({ transports: ["websocket", "polling"] });
    return agentSocket;
  }

  // Re-fetch this page and swap in its element `id` whenever one of `events` arrives
  // (bursts coalesce into one fetch); `keep(old, fresh)` may carry state over first.
  function refreshOn(events, id, keep) {
    let queued = false;
    function refresh() {
      if (queued) return;
      queued = true;
      setTimeout(function () {
        queued = false;
        fetch(location.href, { headers: { Accept: "text/html" } }).then(function (r) { return r.text(); })
          .then(function (html) {
            const fresh = new DOMParser().parseFromString(html, "text/html").getElementById(id);
            const old = document.getElementById(id);
            if (!fresh || !old) return;
            if (keep) keep(old, fresh);
            old.replaceWith(fresh);
          });
      }, 300);
    }
    events.forEach(function (name) { socket().on(name, refresh); });
  }

  return { socket: socket, bindAttach: bindAttach, Thread: Thread, typingNotifier: typingNotifier, typingIndicator: typingIndicator, bindComposer: bindComposer, refreshOn: refreshOn };
})();
