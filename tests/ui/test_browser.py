"""The UI's main flows in a real Chromium: citizen, staff, call center, dashboard, language, phone width."""

from __future__ import annotations

from typing import Any

import pytest

from tests.ui.conftest import TITLE, LiveSite, screenshot

pytestmark = pytest.mark.browser


async def sign_in(page: Any, token: str, path: str = "/staff") -> None:
    await page.goto(path)
    await page.get_by_label("رمز الدخول").fill(token)
    await page.get_by_role("button", name="دخول").click()


async def test_citizen_lookup_shows_status_card_rtl(page: Any, live_site: LiveSite) -> None:
    await page.goto("/")
    assert await page.get_attribute("html", "dir") == "rtl"
    assert await page.get_attribute("html", "lang") == "ar"
    assert await page.evaluate("getComputedStyle(document.body).direction") == "rtl"
    await page.get_by_label("رقم المعاملة").fill(live_site.tracking)
    await page.get_by_label("رمز التحقق").fill("0008")
    await page.get_by_role("button", name="استعلام").click()
    card = page.locator(".status-card")
    await card.wait_for()
    text = await card.inner_text()
    assert live_site.tracking in text
    assert "أمانة العاصمة المقدسة" in await card.locator(".holder").inner_text()
    assert "هـ" in text  # Hijri beside Gregorian
    assert await card.locator(".stepper .step").count() == 3
    assert await page.evaluate("document.activeElement.id") == "result-title"  # focus moved to the answer
    await screenshot(page, "citizen-result-ar")


async def test_citizen_wrong_verifier_message(page: Any, live_site: LiveSite) -> None:
    await page.goto("/")
    await page.get_by_label("رقم المعاملة").fill(live_site.tracking)
    await page.get_by_label("رمز التحقق").fill("1111")
    await page.get_by_role("button", name="استعلام").click()
    alert = page.get_by_role("alert")
    await alert.wait_for()
    assert "لا توجد معاملة مطابقة" in await alert.inner_text()
    assert await page.locator(".status-card").count() == 0


async def test_citizen_lookup_without_javascript(browser: Any, live_site: LiveSite) -> None:
    context = await browser.new_context(base_url=live_site.base_url, java_script_enabled=False)
    try:
        page = await context.new_page()
        await page.goto("/")
        await page.fill("#reference", "1447/998")
        await page.fill("#verifier", "0551234567")
        await page.click("#inquiry-form button[type=submit]")
        await page.locator(".status-card").wait_for()
        assert live_site.tracking in await page.locator("#result-title").inner_text()
    finally:
        await context.close()


async def test_language_toggle_persists(page: Any) -> None:
    await page.goto("/")
    await page.get_by_role("button", name="Switch to English").click()
    await page.wait_for_load_state()
    assert await page.get_attribute("html", "lang") == "en"
    assert await page.get_attribute("html", "dir") == "ltr"
    await page.reload()
    assert await page.get_attribute("html", "dir") == "ltr"
    assert await page.evaluate("getComputedStyle(document.body).direction") == "ltr"
    assert await page.get_by_role("heading", level=1).inner_text() == "Where is my transaction?"
    await screenshot(page, "citizen-form-en")
    await page.get_by_role("button", name="التبديل إلى العربية").click()
    await page.wait_for_load_state()
    assert await page.get_attribute("html", "dir") == "rtl"


async def test_staff_sign_in_search_facet_and_detail(page: Any, live_site: LiveSite) -> None:
    await page.goto("/staff")
    await page.get_by_label("رمز الدخول").fill("uist_not-a-real-token")
    await page.get_by_role("button", name="دخول").click()
    assert "منتهي الصلاحية" in await page.get_by_role("alert").inner_text()

    await sign_in(page, live_site.tokens["staff"])
    await page.get_by_label("كلمات البحث أو رقم المعاملة").fill("رخصة")
    await page.get_by_role("button", name="بحث", exact=True).click()
    await page.locator(".result-list").wait_for()
    assert await page.locator(".result-list mark").count() >= 1  # highlighted words
    before = await page.locator(".result-list > li").count()
    assert before >= 2
    await screenshot(page, "staff-search-ar")

    facet = page.locator(".facet-link", has_text="الوارد")
    await facet.first.click()
    await page.wait_for_url("**direction=incoming**")
    assert await page.locator(".facet-link.active").count() == 1
    assert await page.locator(".result-list > li").count() <= before

    await page.locator(".tracking", has_text=live_site.tracking).click()
    await page.wait_for_url(f"**/staff/t/{live_site.tracking}")
    assert TITLE in await page.locator(".tx-title").inner_text()
    assert await page.locator(".stepper .step").count() == 3
    await screenshot(page, "staff-detail-ar")


async def test_staff_direction_filter_and_paging(page: Any, live_site: LiveSite) -> None:
    await sign_in(page, live_site.tokens["staff"])
    await page.goto("/staff?direction=incoming")
    assert await page.locator("#direction").input_value() == "incoming"
    assert await page.locator(".result-list .tracking > span[dir=ltr]").all_inner_texts() == [live_site.tracking]
    await page.goto("/staff?size=2&sort=oldest")
    first = await page.locator(".result-list .tracking > span[dir=ltr]").all_inner_texts()
    assert len(first) == 2
    await page.locator("#next-page").click()
    await page.wait_for_url("**cursor=**")
    second = await page.locator(".result-list .tracking > span[dir=ltr]").all_inner_texts()
    assert second and not set(first) & set(second)
    assert await page.locator("#sort").input_value() == "oldest"


async def test_callcenter_lookup_by_id_is_masked(page: Any, live_site: LiveSite) -> None:
    await sign_in(page, live_site.tokens["call_center"], "/callcenter")
    await page.wait_for_url("**/callcenter")
    await page.get_by_label("البحث بواسطة").select_option("national_id")
    await page.get_by_label("القيمة").fill("1000000008")
    await page.get_by_role("button", name="بحث", exact=True).click()
    await page.locator(".result-list").wait_for()
    text = await page.locator(".result-list").inner_text()
    assert "1000000008" not in text and "0008" in text
    await screenshot(page, "callcenter-ar")
    await page.locator(".tracking").first.click()
    await page.wait_for_url("**/staff/t/**")
    await page.locator(".stepper").wait_for()


async def test_dashboard_renders_numbers(page: Any, live_site: LiveSite) -> None:
    await sign_in(page, live_site.tokens["manager"], "/dashboard")
    await page.wait_for_url("**/dashboard")
    total = await page.locator("#kpi-total").inner_text()
    assert int(total.replace(",", "")) >= 5
    for heading in ["توزيع الحالات", "الوارد والصادر لكل جهة", "المتأخرة لكل جهة", "جودة بيانات الجهات"]:
        assert await page.get_by_role("heading", name=heading).count() == 1
    assert await page.locator("ul.bars li").count() >= 2
    refresh = await page.get_attribute("#dash-panel", "data-refresh-seconds")
    assert refresh == "60"
    panel = await page.request.get("/dashboard?panel=1")
    assert panel.ok and "kpi-total" in await panel.text()
    await screenshot(page, "dashboard-ar")


async def test_staff_role_cannot_open_dashboard(page: Any, live_site: LiveSite) -> None:
    await sign_in(page, live_site.tokens["staff"], "/dashboard")
    assert "لا تسمح صلاحيتك" in await page.get_by_role("alert").inner_text()


@pytest.mark.parametrize("path", ["/", "/staff", "/callcenter", "/dashboard"])
async def test_phone_width_has_no_horizontal_scroll(browser: Any, live_site: LiveSite, path: str) -> None:
    context = await browser.new_context(
        base_url=live_site.base_url, viewport={"width": 375, "height": 812}, is_mobile=True, has_touch=True
    )
    try:
        page = await context.new_page()
        role = {"/staff": "staff", "/callcenter": "call_center", "/dashboard": "manager"}.get(path)
        if role:
            await sign_in(page, live_site.tokens[role], path)
            await page.wait_for_url(f"**{path}")
        else:
            await page.goto("/")
            await page.fill("#reference", live_site.tracking)
            await page.fill("#verifier", "0008")
            await page.click("#inquiry-form button[type=submit]")
            await page.locator(".status-card").wait_for()
        if path == "/callcenter":
            await page.goto("/callcenter?by=mobile&value=0551234567")
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"{path} is {width}px wide at 375px"
        await screenshot(page, "phone-" + (path.strip("/") or "citizen"))
    finally:
        await context.close()


async def test_keyboard_reaches_the_form_in_order(page: Any) -> None:
    await page.goto("/")
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.className") == "skip"
    order = []
    for _ in range(12):
        await page.keyboard.press("Tab")
        order.append(await page.evaluate("document.activeElement.id || document.activeElement.tagName"))
    assert order.index("reference") < order.index("verifier")
    outline = await page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # a visible focus ring
