// The buyer's chat page: start a conversation (kept in this browser's storage, so a
// reload or a return visit shows the whole history), then talk over Socket.IO.
"use strict";

(function () {
  const STORE_KEY = "helpdesk.chat";
  const startForm = document.getElementById("chat-start");
  const room = document.getElementById("chat-room");
  const errorBox = document.getElementById("send-error");

  function showError(box, error) {
    box.textContent = (error && error.message) || box.dataset.fallback || "Something went wrong; please try again.";
    box.hidden = false;
  }

  // Storage is often unavailable in a storefront's iframe (browsers partition or block
  // third-party storage). The widget on the storefront then keeps the session in the
  // storefront's own storage: this page hands it over with postMessage, and the widget
  // hands it back in the iframe's URL fragment (never sent to any server).
  const framed = window.parent !== window;
  const parentOrigin = framed && document.referrer ? new URL(document.referrer).origin : null;

  function tellWidget(message) {
    if (parentOrigin) window.parent.postMessage(Object.assign({ source: "helpdesk-chat" }, message), parentOrigin);
  }

  function fromWidget() {
    const match = /[#&]session=([^&]+)/.exec(location.hash);
    try { return match ? JSON.parse(decodeURIComponent(match[1])) : null; } catch (e) { return null; }
  }

  function saved() {
    let stored = null;
    try { stored = JSON.parse(localStorage.getItem(STORE_KEY)); } catch (e) { /* no storage here */ }
    return stored || fromWidget();
  }

  function remember(session) {
    try { localStorage.setItem(STORE_KEY, JSON.stringify(session)); } catch (e) { /* no storage here */ }
    tellWidget({ type: "session", session: session });
  }

  function forget() {
    try { localStorage.removeItem(STORE_KEY); } catch (e) { /* no storage here */ }
    tellWidget({ type: "forget" });
    if (location.hash) history.replaceState(null, "", location.pathname + location.search);
  }

  function enter(session) {
    startForm.hidden = true;
    room.hidden = false;
    const socket = io({ auth: { token: session.token }, transports: ["websocket", "polling"] });
    const thread = new HelpdeskChat.Thread({
      list: document.getElementById("messages"),
      socket: socket,
      mine: function (m) { return m.sender === "buyer"; },
      preferTranslation: function (m) { return m.sender === "agent"; },  // replies in the buyer's language
      onError: function (error, text) {
        showError(errorBox, error);
        if (text && !box.value) box.value = text;  // a refused message comes back to be edited
      },
    });
    const box = document.getElementById("message");
    const closedNote = document.getElementById("closed-note");
    const agentLine = document.getElementById("chat-agent");
    const queueNote = document.getElementById("queue-note");
    let leftAs = null;  // the request (ticket) number a message left while nobody was online became
    function showQueue(queue) {
      if (queue && queue.ticket) leftAs = queue.ticket;
      queueNote.hidden = !queue || queue.position === null;
      if (queueNote.hidden) return;
      if (queue.agents_online) queueNote.textContent = queueNote.dataset.position.replace("{n}", queue.position);
      else if (leftAs) queueNote.textContent = queueNote.dataset.left.replace("{n}", leftAs);
      else queueNote.textContent = queueNote.dataset.offline;
    }
    // Who holds the chat: a live "agent" event is newer than a history answer computed
    // before it (both can cross on a fresh connection), so it wins until the next reconnect.
    let liveAgent = false;
    function showAgent(name) {
      agentLine.textContent = name ? agentLine.dataset.with + " " + name : agentLine.dataset.waiting;
      if (name) queueNote.hidden = true;
    }
    socket.on("disconnect", function () { liveAgent = false; });
    socket.on("queue", showQueue);
    thread.onHistory = function (ack) {
      if (!liveAgent) {
        showQueue(ack.queue);
        showAgent(ack.conversation.assignee);
      }
      thread.markRead(ack.conversation.agent_read_seq);
      closedNote.hidden = ack.conversation.status !== "closed";
      if (thread.lastSeq) socket.emit("read", { seq: thread.lastSeq });
    };
    socket.on("connect_error", function (err) {
      if (err && err.message === "unauthorized") { forget(); location.reload(); }
    });
    socket.on("agent", function (a) {
      liveAgent = Boolean(a.name);
      showAgent(a.name);
    });
    // While waiting, ask again every 30 s: agents come and go (a closed laptop sends nothing).
    setInterval(function () { if (!queueNote.hidden && socket.connected) thread.resume(); }, 30000);
    socket.on("closed", function () { closedNote.hidden = false; });
    socket.on("reopened", function () { closedNote.hidden = true; });
    // The satisfaction survey of a closed chat: a card with the question and the survey's link.
    socket.on("survey", function (survey) {
      document.getElementById("survey-question").textContent = survey.question;
      document.getElementById("survey-link").href = survey.url;
      document.getElementById("survey-card").hidden = false;
    });
    socket.on("message", function (m) {
      closedNote.hidden = true;
      if (document.hasFocus()) socket.emit("read", { seq: m.seq });
    });
    const showTyping = HelpdeskChat.typingIndicator(document.getElementById("typing"));
    socket.on("typing", function (t) { showTyping(t.typing); });

    const stopTyping = HelpdeskChat.typingNotifier(box, function (on) { socket.emit("typing", { typing: on }); });
    HelpdeskChat.bindComposer(document.getElementById("composer"), box, errorBox, function (text) {
      thread.send(text);
      closedNote.hidden = true;
    }, stopTyping, "helpdesk.draft." + session.conversation);
    HelpdeskChat.bindAttach(document.getElementById("attach"),
      "/chat/api/conversations/" + encodeURIComponent(session.conversation) + "/attachments",
      { Authorization: "Bearer " + session.token }, thread,
      function (error) { if (error === false) errorBox.hidden = true; else showError(errorBox, error); });
    document.getElementById("new-chat").addEventListener("click", function () {
      forget();
      socket.disconnect();
      location.reload();
    });
  }

  // A buyer signed in on the storefront: the widget passes the store's signed identity.
  const page = document.getElementById("chat-buyer").dataset;
  const identity = page.buyerHash ? { store: page.store, buyer_id: page.buyerId, buyer_hash: page.buyerHash } : null;

  function start(body) {
    if (page.lang) body.language = page.lang;  // the language the buyer chose: the conversation's
    const error = document.getElementById("start-error");
    error.hidden = true;
    fetch("/chat/api/conversations", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) { showError(error, data.error); return; }
        const session = { conversation: data.conversation, token: data.token, buyer: identity && identity.buyer_id };
        remember(session);
        enter(session);
      });
    }).catch(function () { showError(error, null); });
  }

  startForm.addEventListener("submit", function (event) {
    event.preventDefault();
    start(Object.assign({
      email: startForm.email.value, name: startForm.name.value, order_number: startForm.order_number.value,
    }, identity || {}));
  });

  const session = saved();
  if (session && session.token && (!identity || session.buyer === identity.buyer_id)) {
    enter(session);
  } else if (identity) {
    start(Object.assign({ email: page.email, name: page.name, order_number: page.order }, identity));
  }
})();
