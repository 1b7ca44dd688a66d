"""In Chromium: the agent console in Chinese keeps its top-bar labels on one line and
the composer's Send button inside the page; text inputs are styled like the others
(QA L4, L5). Screenshots go to the test's tmp dir."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.test_chat_browser import sign_in, start_chat

expect.set_options(timeout=15_000)

ONE_LINE = """selector => [...document.querySelectorAll(selector)].map(e => {
  const box = e.getBoundingClientRect();
  return {text: e.textContent.trim(), height: box.height,
          line: parseFloat(getComputedStyle(e).lineHeight) || 22.5};
})"""


def test_chinese_console_and_composer_do_not_wrap_per_character(browser, app, serve, make_agent, order, tmp_path):
    url = serve(app).url
    make_agent(email="lukas@test.example", name="Lukas", locale="zh_Hans")
    buyer_ctx = browser.new_context(base_url=url)
    agent_ctx = browser.new_context(base_url=url, viewport={"width": 900, "height": 800})
    try:
        buyer = buyer_ctx.new_page()
        start_chat(buyer)
        buyer.get_by_label("Message").fill("Olá")
        buyer.get_by_role("button", name="Send").click()
        expect(buyer.locator("#messages .body")).to_have_text(["Olá"])

        agent = agent_ctx.new_page()
        sign_in(agent)
        agent.goto("/chat/inbox?tab=all")
        expect(agent.locator("html")).to_have_attribute("lang", "zh-Hans")
        for link in agent.evaluate(ONE_LINE, ".topbar nav a, .topbar .brand"):
            assert link["height"] < 1.5 * link["line"], link  # one line, not one character a line
        agent.locator("#inbox-rows a").first.click()
        send = agent.locator("#composer button[type=submit]")
        expect(send).to_be_visible()
        box, page_width = send.bounding_box(), agent.evaluate("document.documentElement.clientWidth")
        assert box["x"] >= 0 and box["x"] + box["width"] <= page_width, (box, page_width)
        assert box["height"] < 2 * 22.5  # its label on one line
        agent.screenshot(path=str(tmp_path / "console-zh.png"), full_page=True)

        help_page = buyer_ctx.new_page()
        help_page.goto("/help/")
        assert help_page.locator("#order_number").get_attribute("type") == "text"
        assert help_page.evaluate(
            "getComputedStyle(document.querySelector('#order_number')).borderTopLeftRadius") == "6px"
    finally:
        buyer_ctx.close()
        agent_ctx.close()
