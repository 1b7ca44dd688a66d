// The agent's conversation view.
"use strict";

(function () {
  const root = document.getElementById("conversation");
  const id = root.dataset.id;
  const errorBox = document.getElementById("send-error");
  const box = document.getElementById("message");
  const socket = HelpdeskChat.socket();
  const thread = new HelpdeskChat.Thread({
    list: document.getElementById("messages"),
    socket: socket,
    scope: { conversation: id },
    mine: function (m) { return m.sender === "agent"; },
    preferTranslation: function (m) { return m.sender === "buyer"; },  // the buyer's words in the agent's language
    showMarkers: true,
    onError: function (error, text) {
      if (error && error.code === "signed_out") {
        // Keep what was being sent as the draft: after signing in again it is still there.
        try { if (text) sessionStorage.setItem("helpdesk.draft." + id, text); } catch (e) { /* no storage */ }
        location.href = "/login?next=" + encodeURIComponent(location.pathname);
        return;
      }
      errorBox.textContent = (error && error.message) || errorBox.dataset.fallback || "Something went wrong; please try again.";
      errorBox.hidden = false;
      if (text && !box.value) box.value = text;  // a refused message comes back to be edited
    },
  });

  function showState(c) {
    document.getElementById("assignee").textContent = c.assignee || "—";
    const status = document.getElementById("status");
    status.textContent = status.dataset[c.status] || c.status;  // the label in the page's language
    document.getElementById("claim").hidden = Boolean(c.assignee_id);
    document.getElementById("close").hidden = c.status === "closed";
    document.getElementById("reopen").hidden = c.status !== "closed";
    // Anyone may answer (as in Zendesk), but say so when a colleague holds the chat.
    const held = document.getElementById("held-by-other");
    held.hidden = !c.assignee_id || String(c.assignee_id) === root.dataset.agentId;
    held.textContent = held.dataset.label.replace("{name}", c.assignee || "");
  }

  socket.on("connect", function () {
    socket.emit("conversation:join", { conversation: id }, function (ack) { if (ack && ack.ok) showState(ack.conversation); });
  });
  thread.onHistory = function (ack) {
    thread.markRead(ack.conversation.buyer_read_seq);
    showState(ack.conversation);
    if (thread.lastSeq) socket.emit("read", { conversation: id, seq: thread.lastSeq });
  };
  socket.on("conversation", function (c) { if (c.id === id) showState(c); });
  socket.on("message", function (m) { socket.emit("read", { conversation: id, seq: m.seq }); });
  const showTyping = HelpdeskChat.typingIndicator(document.getElementById("typing"));
  socket.on("typing", function (t) { if (t.sender === "buyer") showTyping(t.typing); });
  const presence = document.getElementById("presence");
  socket.on("presence", function (p) {
    presence.textContent = p.viewing ? p.agent + " is also viewing this conversation" : "";
    presence.hidden = !p.viewing;
  });

  ["claim", "close", "reopen"].forEach(function (action) {
    document.getElementById(action).addEventListener("click", function () {
      errorBox.hidden = true;
      socket.emit("conversation:" + action, { conversation: id }, function (ack) {
        if (ack.ok) showState(ack.conversation); else thread.onError(ack.error);
      });
    });
  });

  HelpdeskChat.bindAttach(document.getElementById("attach"),
    "/chat/api/conversations/" + encodeURIComponent(id) + "/attachments",
    { "X-CSRFToken": document.querySelector("meta[name=csrf-token]").content }, thread,
    function (error) { if (error === false) errorBox.hidden = true; else thread.onError(error); },
    function () { return { internal: internal.checked }; });  // a file sent while writing a note stays in the note

  const transfer = document.getElementById("transfer");
  transfer.addEventListener("change", function () {
    if (!transfer.value) return;
    errorBox.hidden = true;
    const to = transfer.value === "queue" ? null : Number(transfer.value);
    socket.emit("conversation:transfer", { conversation: id, agent: to }, function (ack) {
      if (ack.ok) showState(ack.conversation); else thread.onError(ack.error);
      transfer.value = "";
    });
  });

  const canned = document.getElementById("canned");
  if (canned) {
    canned.addEventListener("change", function () {
      if (!canned.value) return;
      fetch(canned.dataset.url + canned.value, { headers: { Accept: "application/json" } })
        .then(function (r) { return r.json(); })
        .then(function (data) {
          if (data.text) { box.value = box.value ? box.value + "\n" + data.text : data.text; box.focus(); }
          canned.value = "";
        });
    });
  }
  // Writing an internal note is nothing the buyer should see as typing.
  const internal = document.getElementById("internal");
  const stopTyping = HelpdeskChat.typingNotifier(box, function (on) {
    socket.emit("typing", { conversation: id, typing: on && !internal.checked });
  });
  // Translation of a reply: preview it, edit it, and send it with the original; or send
  // the original only. Without either, the server translates it after sending.
  const panel = document.getElementById("translation-panel");
  const translationBox = document.getElementById("translation-text");
  const translationLabel = document.getElementById("translation-label");
  const sendOriginal = document.getElementById("send-original");
  let previewLang = null;
  function closePreview() { panel.hidden = true; translationBox.value = ""; previewLang = null; }
  box.addEventListener("input", closePreview);  // a changed reply needs a new preview
  document.getElementById("preview-translation").addEventListener("click", function () {
    errorBox.hidden = true;
    if (!box.value.trim()) return;
    socket.emit("translate:preview", { conversation: id, text: box.value }, function (ack) {
      if (!ack.ok) { thread.onError(ack.error); return; }
      previewLang = ack.target;
      translationLabel.textContent = translationLabel.dataset.label.replace("{lang}", ack.target);
      translationBox.value = ack.text;
      panel.hidden = false;
      sendOriginal.checked = false;
    });
  });
  HelpdeskChat.bindComposer(document.getElementById("composer"), box, errorBox, function (text) {
    const extra = { internal: internal.checked };
    if (!internal.checked && sendOriginal.checked) extra.translate = false;
    else if (!internal.checked && previewLang && translationBox.value.trim()) {
      extra.translation = { lang: previewLang, text: translationBox.value.trim() };
    }
    thread.send(text, extra);
    closePreview();
    sendOriginal.checked = false;
    internal.checked = false;  // a note is one message: the next one goes to the buyer unless ticked again
  }, stopTyping, "helpdesk.draft." + id);
})();
