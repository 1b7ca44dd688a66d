// The ticket queue refreshes its rows when a ticket changes or an SLA notice fires
// (Socket.IO room "agents"); ticked boxes stay ticked.
"use strict";

HelpdeskChat.refreshOn(["ticket", "sla"], "queue-rows", function (old, fresh) {
  const ticked = new Set(Array.from(old.querySelectorAll("input[name=ids]:checked")).map(function (box) { return box.value; }));
  fresh.querySelectorAll("input[name=ids]").forEach(function (box) { box.checked = ticked.has(box.value); });
});

// Each SLA notice is also said in words (a live region), e.g. "SLA breached: ticket #12, first response".
HelpdeskChat.socket().on("sla", function (notice) {
  const line = document.getElementById("sla-notice");
  const text = line && line.dataset[notice.kind];
  if (text) line.textContent = text.replace("{id}", notice.ticket).replace("{metric}", notice.metric.replace(/_/g, " "));
});
