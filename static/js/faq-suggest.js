// FAQ suggestions. One element #faq-suggest configures it (templates/faq/_chat_suggest.html
// and _suggestions.html):
//   data-mode="buyer": while the buyer types in #<data-box>, suggest answers (debounced);
//     a click shows the answer inline, under its category's name in the reader's language,
//     with "did this answer your question?" (a yes is a deflection, counted by the server
//     once per voter: the vote carries the token the article came with, so answering
//     again changes the vote);
//   data-mode="agent": suggest answers to the buyer's latest message in #<data-messages>;
//     "Insert" puts the answer, in the language it matched, into #<data-box>.
// Titles are shown with textContent; answer_html is sanitised by the server (nh3).
"use strict";

(function () {
  const root = document.getElementById("faq-suggest");
  if (!root) return;
  const box = document.getElementById(root.dataset.box);
  const list = root.querySelector(".faq-suggest-list");
  const MAX_QUERY = 500;
  const DEBOUNCE_MS = 250;
  let timer = null;
  let latest = 0;          // number of the newest request: older answers are ignored
  let lastQuery = null;

  function articleUrl(slug, lang) {
    return root.dataset.articleUrl.replace("SLUG", encodeURIComponent(slug)) + "?lang=" + encodeURIComponent(lang);
  }

  function fetchJson(url, options) {
    return fetch(url, Object.assign({ headers: { Accept: "application/json" } }, options || {}))
      .then(function (r) { return r.ok ? r.json() : null; })
      .catch(function () { return null; });
  }

  function suggest(text, lang, limit, show) {
    const q = text.trim().slice(0, MAX_QUERY);
    if (q === lastQuery) return;
    lastQuery = q;
    const mine = ++latest;
    if (!/[\p{L}\p{N}]/u.test(q)) { show([]); return; }
    const url = root.dataset.suggestUrl + "?q=" + encodeURIComponent(q) + "&limit=" + limit +
      (lang ? "&lang=" + encodeURIComponent(lang) : "");
    fetchJson(url).then(function (data) {
      if (mine === latest) show((data && data.results) || []);
    });
  }

  function debounced(fn) {
    return function () { clearTimeout(timer); timer = setTimeout(fn, DEBOUNCE_MS); };
  }

  function buyerMode() {
    const answer = root.querySelector(".faq-suggest-answer");
    const question = root.querySelector(".faq-suggest-question");
    const thanks = root.querySelector(".faq-suggest-thanks");
    let shown = null;      // the article shown inline: {slug}
    // the language the buyer chose on the page (?lang=, the widget's data-lang), else the browser's
    const lang = root.dataset.lang || navigator.language || document.documentElement.lang || "en";

    function show(results) {
      list.replaceChildren();
      results.forEach(function (r) {
        const item = document.createElement("li");
        const button = document.createElement("button");
        button.type = "button";
        button.className = "link";
        button.dir = "auto";
        button.lang = r.lang;
        button.textContent = r.title;
        button.addEventListener("click", function () { open(r); });
        item.append(button);
        list.append(item);
      });
      root.hidden = results.length === 0 && answer.hidden;
    }

    function open(r) {
      fetchJson(articleUrl(r.slug, r.lang)).then(function (a) {
        if (!a) return;
        shown = a;
        answer.querySelector(".faq-category").textContent = a.category || "";
        answer.querySelector("h3").textContent = a.title;
        answer.querySelector("h3").lang = a.lang;
        const body = answer.querySelector(".faq-answer");
        body.innerHTML = a.answer_html;  // sanitised by the server
        body.lang = a.lang;
        question.hidden = false;
        thanks.hidden = true;
        answer.hidden = false;
        root.hidden = false;
      });
    }

    answer.querySelectorAll("button[data-helpful]").forEach(function (button) {
      button.addEventListener("click", function () {
        if (!shown) return;
        const helpful = button.dataset.helpful === "true";
        fetchJson(root.dataset.articleUrl.replace("SLUG", encodeURIComponent(shown.slug)) + "/feedback", {
          method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" },
          body: JSON.stringify({ helpful: helpful, vote_token: shown.vote_token }),
        });
        question.hidden = true;
        thanks.textContent = helpful ? thanks.dataset.yes : thanks.dataset.no;
        thanks.hidden = false;
      });
    });

    box.addEventListener("input", debounced(function () { suggest(box.value, lang, 3, show); }));
  }

  function agentMode() {
    const messages = document.getElementById(root.dataset.messages);
    const empty = root.querySelector(".faq-suggest-empty");
    const lang = root.dataset.lang || "";

    function show(results) {
      list.replaceChildren();
      results.forEach(function (r) {
        const item = document.createElement("li");
        const title = document.createElement("a");
        title.href = root.dataset.pageUrl.replace("LANG", encodeURIComponent(r.lang)).replace("SLUG", encodeURIComponent(r.slug));
        title.target = "_blank";
        title.rel = "noopener";
        title.dir = "auto";
        title.lang = r.lang;
        title.textContent = r.title + " (" + r.lang + ")";
        const insert = document.createElement("button");
        insert.type = "button";
        insert.textContent = list.dataset.insertLabel;
        insert.addEventListener("click", function () {
          fetchJson(articleUrl(r.slug, r.lang)).then(function (a) {
            if (!a) return;
            box.value = box.value ? box.value + "\n" + a.answer_text : a.answer_text;
            box.dispatchEvent(new Event("input"));
            box.focus();
          });
        });
        item.append(title, insert);
        list.append(item);
      });
      empty.hidden = results.length > 0;
    }

    function fromLatestMessage() {
      const bodies = document.querySelectorAll(root.dataset.source);
      const text = bodies.length ? bodies[bodies.length - 1].textContent : root.dataset.fallback;
      if (text) suggest(text, lang, 3, show);
    }

    if (messages) new MutationObserver(debounced(fromLatestMessage)).observe(messages, { childList: true });
    fromLatestMessage();
  }

  if (root.dataset.mode === "agent") agentMode(); else buyerMode();
})();
