// The buyer's chat page: start a conversation (kept in this browser's storage, so a
// reload or a return visit shows the whole history), then talk over Socket.IO.
"use strict";

(function () {
  const STORE_KEY = "helpdesk.chat";
  const startForm = document.getElementById("chat-start");
  const room = document.getElementById("chat-room");
  const errorBox = document.getElementById("send-error");

  function showError(box, error) {
    box.textContent = (error && error.message) || "Something went wrong; please try again.";
    box.hidden = false;
  }

  // Storage can be unavailable (a storefront iframe under strict privacy settings): the
  // chat then still works, it just cannot find the conversation again after a reload.
  function saved() {
    try { return JSON.parse(localStorage.getItem(STORE_KEY)); } catch (e) { return null; }
  }

  function remember(session) {
    try { localStorage.setItem(STORE_KEY, JSON.stringify(session)); } catch (e) { /* see above */ }
  }

  function forget() {
    try { localStorage.removeItem(STORE_KEY); } catch (e) { /* see above */ }
  }

  function enter(session) {
    startForm.hidden = true;
    room.hidden = false;
    const socket = io({ auth: { token: session.token }, transports: ["websocket", "polling"] });
    const thread = new HelpdeskChat.Thread({
      list: document.getElementById("messages"),
      socket: socket,
      mine: function (m) { return m.sender === "buyer"; },
      onError: function (error) { showError(errorBox, error); },
    });
    const agentLine = document.getElementById("chat-agent");
    thread.onHistory = function (ack) {
      agentLine.textContent = ack.conversation.assignee
        ? agentLine.dataset.with + " " + ack.conversation.assignee : agentLine.dataset.waiting;
      document.getElementById("closed-note").hidden = ack.conversation.status !== "closed";
      if (thread.lastSeq) socket.emit("read", { seq: thread.lastSeq });
    };
    socket.on("connect_error", function (err) {
      if (err && err.message === "unauthorized") { forget(); location.reload(); }
    });
    socket.on("agent", function (a) { agentLine.textContent = agentLine.dataset.with + " " + a.name; });
    socket.on("closed", function () { document.getElementById("closed-note").hidden = false; });
    socket.on("message", function (m) { if (document.hasFocus()) socket.emit("read", { seq: m.seq }); });
    const typing = document.getElementById("typing");
    socket.on("typing", function (t) { typing.hidden = !t.typing; });

    const box = document.getElementById("message");
    let typingSent = false;
    box.addEventListener("input", function () {
      if (!typingSent && box.value.trim()) { socket.emit("typing", { typing: true }); typingSent = true; }
    });
    document.getElementById("composer").addEventListener("submit", function (event) {
      event.preventDefault();
      errorBox.hidden = true;
      const text = box.value.trim();
      if (!text) return;
      thread.send(text);
      box.value = "";
      if (typingSent) { socket.emit("typing", { typing: false }); typingSent = false; }
    });
    box.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey) {
        event.preventDefault();
        document.getElementById("composer").requestSubmit();
      }
    });
  }

  startForm.addEventListener("submit", function (event) {
    event.preventDefault();
    const error = document.getElementById("start-error");
    error.hidden = true;
    const body = {
      email: startForm.email.value, name: startForm.name.value, order_number: startForm.order_number.value,
    };
    fetch("/chat/api/conversations", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) { showError(error, data.error); return; }
        const session = { conversation: data.conversation, token: data.token };
        remember(session);
        enter(session);
      });
    }).catch(function () { showError(error, null); });
  });

  const session = saved();
  if (session && session.token) enter(session);
})();
