// The agent's inbox refreshes its rows whenever a conversation changes.
"use strict";

(function () {
  const socket = HelpdeskChat.socket();
  let queued = false;
  function refresh() {
    if (queued) return;
    queued = true;
    setTimeout(function () {
      queued = false;
      fetch(location.href, { headers: { Accept: "text/html" } }).then(function (r) { return r.text(); })
        .then(function (html) {
          const fresh = new DOMParser().parseFromString(html, "text/html").getElementById("inbox-rows");
          if (fresh) document.getElementById("inbox-rows").replaceWith(fresh);
        });
    }, 300);
  }
  socket.on("conversation", refresh);
})();
