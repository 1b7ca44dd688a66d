"""In Chromium: an Arabic-speaking buyer's chat page is right to left and its layout is
mirrored (logical CSS properties); a screenshot is kept in the test's tmp dir."""
from __future__ import annotations

from playwright.sync_api import expect

expect.set_options(timeout=15_000)

TEXT_BOX = """selector => {
  const range = document.createRange();
  range.selectNodeContents(document.querySelector(selector));
  const box = range.getBoundingClientRect();
  return {x: box.x, width: box.width};
}"""


def test_the_arabic_chat_page_is_mirrored(browser, ui_app, serve, tmp_path):
    context = browser.new_context(base_url=serve(ui_app).url, locale="ar-EG", viewport={"width": 1000, "height": 700})
    try:
        page = context.new_page()
        page.goto("/chat/?order=1001")
        html = page.locator("html")
        expect(html).to_have_attribute("dir", "rtl")
        expect(html).to_have_attribute("lang", "ar")
        assert page.evaluate("getComputedStyle(document.body).direction") == "rtl"
        expect(page.get_by_role("button", name="ابدأ المحادثة")).to_be_visible()

        # The top bar runs right to left: the brand on the right, the language menu on the left.
        brand = page.locator(".topbar .brand").bounding_box()
        menu = page.locator(".lang-menu summary").bounding_box()
        assert brand["x"] > menu["x"] + menu["width"], (brand, menu)
        assert brand["x"] + brand["width"] > 1000 - 60  # near the right edge

        # Labels and headings start on the right of the card.
        card = page.locator("#chat-buyer").bounding_box()
        heading = page.evaluate(TEXT_BOX, "#chat-start h1")  # the text, not its block
        label = page.evaluate(TEXT_BOX, "label[for=start-email]")
        assert card["x"] + card["width"] - (heading["x"] + heading["width"]) < 40, (card, heading)
        assert heading["x"] - card["x"] > 100  # and not on the left
        assert page.evaluate("getComputedStyle(document.querySelector('label[for=start-email]')).textAlign") in (
            "start", "right")
        assert label["x"] + label["width"] > card["x"] + card["width"] - 40

        # The language menu opens towards the inside of the page, under its summary, on the left.
        page.locator(".lang-menu summary").click()
        listing = page.locator(".lang-menu ul").bounding_box()
        assert listing["x"] >= 0 and listing["x"] < 500, listing
        expect(page.locator('.lang-menu a[hreflang="en"]')).to_have_text("English")
        page.locator(".lang-menu summary").click()

        shot = tmp_path / "chat-buyer-ar.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 5_000

        # Once the buyer chooses English the same page is left to right.
        page.goto("/chat/?lang=en")
        expect(html).to_have_attribute("dir", "ltr")
        brand = page.locator(".topbar .brand").bounding_box()
        assert brand["x"] < 60
    finally:
        context.close()
