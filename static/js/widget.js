// The helpdesk chat widget for a seller's storefront. Paste one tag:
//   <script src="https://helpdesk.example.com/static/js/widget.js" data-order="1001" async></script>
// It adds a "Chat with us" button that opens the helpdesk's chat page in an iframe
// (the helpdesk must list the storefront's origin in CHAT_WIDGET_ORIGINS).
// For a buyer signed in on the storefront, the store's server also renders
//   data-store="<helpdesk store id>" data-buyer-id="<its customer id>"
//   data-buyer-hash="<hex HMAC-SHA256 of the customer id with the store's identity secret>"
// (and optionally data-email, data-name): the chat then starts verified, with no form.
// data-lang="pt-BR" (a BCP 47 tag) opens the chat in that language instead of the browser's,
// and labels the button in it (the helpdesk's /chat/api/widget gives the text);
// data-label is the button's own text instead. On a right-to-left storefront the button sits on the left.
"use strict";

(function () {
  const script = document.currentScript;
  if (!script) return;
  const origin = new URL(script.src).origin;
  const params = new URLSearchParams();
  ["order", "store", "buyerId", "buyerHash", "email", "name", "lang"].forEach(function (key) {
    if (script.dataset[key]) params.set(key.replace(/[A-Z]/g, function (c) { return "_" + c.toLowerCase(); }), script.dataset[key]);
  });
  let label = script.dataset.label || "Chat with us";

  const side = document.documentElement.dir === "rtl" ? "left" : "right";

  const button = document.createElement("button");
  button.type = "button";
  button.textContent = label;
  button.setAttribute("aria-expanded", "false");
  button.style.cssText = "position:fixed;bottom:20px;" + side + ":20px;z-index:2147483646;padding:12px 18px;" +
    "border:0;border-radius:24px;background:#1f5fbf;color:#fff;font:15px system-ui,sans-serif;cursor:pointer;" +
    "box-shadow:0 2px 8px rgba(0,0,0,.25);white-space:nowrap";
  if (!script.dataset.label) {
    fetch(origin + "/chat/api/widget?language=" + encodeURIComponent(script.dataset.lang || navigator.language || "en"))
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (text) {
        if (!text) return;
        label = text.label;
        button.textContent = label;
        button.lang = text.lang;
        button.dir = text.dir;
        if (frame) frame.title = label;
      })
      .catch(function () { /* the helpdesk unreachable: the button keeps its English label */ });
  }

  // The chat's session (its conversation and buyer token) kept in the storefront's own
  // storage, for browsers that give the helpdesk's iframe no storage of its own.
  const KEY = "helpdesk-chat:" + origin;
  function stored() {
    try { return localStorage.getItem(KEY); } catch (e) { return null; }
  }
  window.addEventListener("message", function (event) {
    if (event.origin !== origin || !event.data || event.data.source !== "helpdesk-chat") return;
    try {
      if (event.data.type === "session") localStorage.setItem(KEY, JSON.stringify(event.data.session));
      if (event.data.type === "forget") localStorage.removeItem(KEY);
    } catch (e) { /* no storage on the storefront either: the chat still works until a reload */ }
  });

  let frame = null;
  button.addEventListener("click", function () {
    if (!frame) {
      frame = document.createElement("iframe");
      frame.title = label;
      frame.referrerPolicy = "origin";  // the chat page learns the storefront's origin, nothing more
      const session = stored();
      frame.src = origin + "/chat/" + (params.toString() ? "?" + params.toString() : "") +
        (session ? "#session=" + encodeURIComponent(session) : "");
      frame.style.cssText = "position:fixed;bottom:76px;" + side + ":20px;z-index:2147483647;width:min(380px,calc(100vw - 40px));" +
        "height:min(560px,calc(100vh - 100px));border:1px solid #dde1e8;border-radius:12px;background:#fff;" +
        "box-shadow:0 4px 16px rgba(0,0,0,.2)";
      document.body.appendChild(frame);
    } else {
      frame.hidden = !frame.hidden;
    }
    button.setAttribute("aria-expanded", String(!frame.hidden));
  });
  document.body.appendChild(button);
})();
