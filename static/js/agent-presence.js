// Every console page: the agent's availability for chats, a heartbeat every 30 s (an agent
// counts as online only while a console page is open), and a notice when a chat is
// assigned to them.
"use strict";

(function () {
  const socket = HelpdeskChat.socket();
  const select = document.getElementById("availability");
  const load = document.getElementById("chat-load");
  const toast = document.getElementById("assigned-toast");

  // Heartbeats and changes can be answered out of order: an answer to a request sent
  // before the agent's latest change must not undo it on screen.
  let sent = 0;
  let lastChange = 0;
  function beat(change) {
    const number = ++sent;
    if (change) lastChange = number;
    socket.emit("agent:status", change || {}, function (ack) {
      if (!ack || !ack.ok || number < lastChange) return;
      select.value = ack.availability;
      load.textContent = ack.open_chats + "/" + ack.max_chats + " " + select.dataset.openLabel;
    });
  }

  // A choice made before this script ran (a slow page) is sent with the first beat.
  socket.on("connect", function () {
    beat(select.value !== select.dataset.saved ? { availability: select.value } : null);
  });
  setInterval(function () { if (socket.connected) beat(); }, 30000);
  select.addEventListener("change", function () { beat({ availability: select.value }); });

  socket.on("assigned", function (c) {
    toast.textContent = toast.dataset.label + " ";
    const link = document.createElement("a");
    link.href = "/chat/conversations/" + encodeURIComponent(c.id);
    link.textContent = c.buyer_name || c.buyer_email || c.id;
    toast.append(link);
    toast.hidden = false;
    setTimeout(function () { toast.hidden = true; }, 15000);
    beat();
  });
})();
