// The ticket queue refreshes its rows when a ticket changes or an SLA notice fires
// (Socket.IO room "agents"); ticked boxes stay ticked.
"use strict";

(function () {
  const socket = HelpdeskChat.socket();
  let queued = false;
  function refresh() {
    if (queued) return;
    queued = true;
    setTimeout(function () {
      queued = false;
      const ticked = new Set(Array.from(document.querySelectorAll("#queue-rows input[name=ids]:checked"))
        .map(function (box) { return box.value; }));
      fetch(location.href, { headers: { Accept: "text/html" } }).then(function (r) { return r.text(); })
        .then(function (html) {
          const fresh = new DOMParser().parseFromString(html, "text/html").getElementById("queue-rows");
          if (!fresh) return;
          fresh.querySelectorAll("input[name=ids]").forEach(function (box) { box.checked = ticked.has(box.value); });
          document.getElementById("queue-rows").replaceWith(fresh);
        });
    }, 300);
  }
  socket.on("ticket", refresh);
  socket.on("sla", refresh);
})();
