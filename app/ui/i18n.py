"""Every UI string in Arabic and English, and dates shown in both calendars.

One dictionary keeps the two languages side by side so a missing translation is visible in review.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from app.normalization.dates import HIJRI_MONTHS_AR, RIYADH, to_hijri_string
from app.normalization.errors import NormalizationError

Lang = Literal["ar", "en"]

HIJRI_MONTHS_EN = (
    "Muharram",
    "Safar",
    "Rabi al-Awwal",
    "Rabi al-Thani",
    "Jumada al-Ula",
    "Jumada al-Akhirah",
    "Rajab",
    "Shaban",
    "Ramadan",
    "Shawwal",
    "Dhu al-Qadah",
    "Dhu al-Hijjah",
)
GREGORIAN_MONTHS_AR = (
    "يناير",
    "فبراير",
    "مارس",
    "أبريل",
    "مايو",
    "يونيو",
    "يوليو",
    "أغسطس",
    "سبتمبر",
    "أكتوبر",
    "نوفمبر",
    "ديسمبر",
)
GREGORIAN_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

STRINGS: dict[str, tuple[str, str]] = {
    "app_name": ("الاستعلام الموحد", "Unified Inquiry"),
    "app_tagline": ("منطقة مكة المكرمة", "Makkah Region"),
    "skip": ("تخطَّ إلى المحتوى", "Skip to content"),
    "switch_lang": ("English", "العربية"),
    "switch_lang_label": ("Switch to English", "التبديل إلى العربية"),
    "nav": ("التنقل الرئيسي", "Main navigation"),
    "nav_citizen": ("الاستعلام عن معاملة", "Track a transaction"),
    "nav_staff": ("بحث الموظفين", "Staff search"),
    "nav_callcenter": ("مركز الاتصال", "Call center"),
    "nav_dashboard": ("لوحة المؤشرات", "Dashboard"),
    # citizen
    "citizen_title": ("أين معاملتي؟", "Where is my transaction?"),
    "citizen_intro": (
        "أدخل رقم المعاملة أو رقم الوارد/الصادر لدى أي جهة، مع آخر 4 أرقام من رقم الهوية أو رقم الجوال المسجل.",
        "Enter the tracking number or any agency's incoming/outgoing number, with the last 4 digits of the "
        "ID number or the registered mobile number.",
    ),
    "reference": ("رقم المعاملة", "Transaction number"),
    "reference_hint": (
        "مثال: \u2066MK-2026-4F7K2Q-8\u2069 أو \u20661447/998\u2069",
        "e.g. MK-2026-4F7K2Q-8 or 1447/998",
    ),
    "verifier": ("رمز التحقق", "Verifier"),
    "verifier_hint": (
        "آخر 4 أرقام من رقم الهوية أو الإقامة، أو رقم الجوال المسجل",
        "Last 4 digits of the ID or iqama number, or the registered mobile number",
    ),
    "lookup": ("استعلام", "Look up"),
    "result": ("نتيجة الاستعلام", "Result"),
    "status": ("الحالة", "Status"),
    "holder": ("الجهة الحالية", "Current agency"),
    "next_step": ("الخطوة التالية", "Next step"),
    "expected": ("التاريخ المتوقع للإنجاز", "Expected completion"),
    "expected_unknown": ("غير محدد بعد", "Not known yet"),
    "completed_on": ("تاريخ الإنجاز", "Completed on"),
    "overdue": ("متأخرة", "Overdue"),
    "on_track": ("ضمن المدة", "On track"),
    "closed": ("مغلقة", "Closed"),
    "created": ("تاريخ التسجيل", "Registered on"),
    "updated": ("آخر تحديث", "Last update"),
    "type": ("نوع المعاملة", "Type"),
    "journey": ("مسار المعاملة بين الجهات", "Path across agencies"),
    "timeline": ("سجل الحالات", "Status history"),
    "days": ("يوم", "days"),
    "accessed_by": ("اطّلع على معاملتك", "Who viewed your transaction"),
    "print": ("طباعة", "Print"),
    "hijri_suffix": ("هـ", "AH"),
    "gregorian_suffix": ("م", ""),
    # errors
    "err_not_found": (
        "لا توجد معاملة مطابقة لرقم المعاملة ورمز التحقق. تأكد من الرقمين وحاول مرة أخرى.",
        "No transaction matches this number and verifier. Check both and try again.",
    ),
    "err_too_many": (
        "محاولات كثيرة غير ناجحة. حاول مرة أخرى بعد {minutes} دقيقة.",
        "Too many failed attempts. Try again in {minutes} minutes.",
    ),
    "err_unavailable": (
        "الخدمة غير متاحة مؤقتاً. حاول مرة أخرى بعد قليل.",
        "The service is temporarily unavailable. Please try again shortly.",
    ),
    "err_invalid": ("تحقق من البيانات المدخلة: {detail}", "Please check what you entered: {detail}"),
    "err_required": ("هذا الحقل مطلوب.", "This field is required."),
    "err_token": (
        "رمز الدخول غير صحيح أو منتهي الصلاحية. اطلب رمزاً جديداً من مسؤول النظام.",
        "The sign-in token is invalid or has expired. Ask your administrator for a new one.",
    ),
    "err_forbidden": ("لا تسمح صلاحيتك بفتح هذه الصفحة.", "Your role does not allow this page."),
    "err_detail_missing": (
        "المعاملة غير موجودة أو خارج نطاق جهتك.",
        "The transaction does not exist or is outside your agency's scope.",
    ),
    "err_origin": ("طلب مرفوض من مصدر آخر.", "Request refused: it came from another site."),
    # staff
    "signin_title": ("دخول الموظفين", "Staff sign-in"),
    "signin_intro": (
        "أدخل رمز الدخول الصادر لك (يبدأ بـ uist_). يُحفظ في ملف تعريف ارتباط آمن لا تقرؤه الصفحات "
        "وينتهي بإغلاق المتصفح.",
        "Enter the token issued to you (it starts with uist_). It is kept in a secure cookie that page scripts "
        "cannot read, and it ends when you close the browser.",
    ),
    "token": ("رمز الدخول", "Token"),
    "signin": ("دخول", "Sign in"),
    "signout": ("خروج", "Sign out"),
    "signed_in_as": ("مسجل الدخول باسم", "Signed in as"),
    "role_staff": ("موظف", "Staff"),
    "role_call_center": ("مركز الاتصال", "Call center"),
    "role_manager": ("مدير", "Manager"),
    "role_admin": ("مسؤول النظام", "Administrator"),
    "search_title": ("البحث في المعاملات", "Search transactions"),
    "search_q": ("كلمات البحث أو رقم المعاملة", "Words, reference or tracking number"),
    "search": ("بحث", "Search"),
    "filters": ("تصفية النتائج", "Filters"),
    "direction": ("الاتجاه", "Direction"),
    "direction_any": ("الكل", "All"),
    "direction_incoming": ("الوارد", "Incoming"),
    "direction_outgoing": ("الصادر", "Outgoing"),
    "any": ("الكل", "Any"),
    "overdue_only": ("المتأخرة فقط", "Overdue only"),
    "created_from": ("من تاريخ", "Created from"),
    "created_to": ("إلى تاريخ", "Created to"),
    "date_hint": (
        "ميلادي \u20662026-05-01\u2069 أو هجري \u20661447-11-14\u2069",
        "Gregorian 2026-05-01 or Hijri 1447-11-14",
    ),
    "sort": ("الترتيب", "Sort"),
    "sort_relevance": ("الأكثر صلة", "Relevance"),
    "sort_newest": ("الأحدث", "Newest"),
    "sort_oldest": ("الأقدم", "Oldest"),
    "sort_due": ("الأقرب استحقاقاً", "Due soonest"),
    "apply": ("تطبيق", "Apply"),
    "clear": ("مسح التصفية", "Clear filters"),
    "facets": ("تصنيفات النتائج", "Refine"),
    "facet_status": ("الحالة", "Status"),
    "facet_holder_agency": ("الجهة الحالية", "Current agency"),
    "facet_sector": ("القطاع", "Sector"),
    "facet_transaction_type": ("نوع المعاملة", "Type"),
    "facet_overdue": ("التأخر", "Overdue"),
    "facet_direction": ("الاتجاه", "Direction"),
    "facet_true": ("متأخرة", "Overdue"),
    "facet_false": ("غير متأخرة", "Not overdue"),
    "results_count": ("{total} نتيجة", "{total} results"),
    "no_results": ("لا توجد نتائج.", "No results."),
    "next_page": ("الصفحة التالية", "Next page"),
    "first_page": ("الصفحة الأولى", "First page"),
    "references": ("أرقام الجهات", "Agency references"),
    "applicant": ("المستفيد", "Applicant"),
    "national_id": ("رقم الهوية", "ID number"),
    "mobile": ("الجوال", "Mobile"),
    "name": ("الاسم", "Name"),
    "origin": ("الجهة المنشئة", "Originating agency"),
    "due": ("تاريخ الاستحقاق", "Due"),
    "open_detail": ("عرض التفاصيل", "Open details"),
    "detail_title": ("تفاصيل المعاملة", "Transaction details"),
    "back_to_search": ("العودة إلى البحث", "Back to search"),
    "raw_status": ("حالة الجهة الأصلية", "Agency's own status"),
    "from_agency": ("من", "From"),
    "to_agency": ("إلى", "To"),
    "note": ("ملاحظة", "Note"),
    "note_internal": ("داخلية", "Internal"),
    "note_public": ("عامة", "Public"),
    # call center
    "cc_title": ("البحث عن معاملات مستفيد", "Find a caller's transactions"),
    "cc_by": ("البحث بواسطة", "Search by"),
    "cc_value": ("القيمة", "Value"),
    "cc_national_id": ("رقم الهوية أو الإقامة", "ID or iqama number"),
    "cc_mobile": ("رقم الجوال", "Mobile number"),
    "cc_name": ("اسم المستفيد", "Applicant name"),
    "cc_reference": ("رقم المعاملة", "Transaction number"),
    "cc_count": ("{count} معاملة", "{count} transactions"),
    # dashboard
    "dash_title": ("لوحة المؤشرات", "Dashboard"),
    "dash_scope_region": ("المنطقة كاملة", "Whole region"),
    "dash_generated": ("حُدّثت في", "Updated at"),
    "dash_refresh_note": ("تتحدث اللوحة تلقائياً كل 60 ثانية.", "The dashboard refreshes itself every 60 seconds."),
    "dash_total": ("إجمالي المعاملات", "Transactions"),
    "dash_overdue_total": ("المتأخرة", "Overdue"),
    "dash_open_total": ("المفتوحة لدى الجهات", "Open at agencies"),
    "dash_status_mix": ("توزيع الحالات", "Status mix"),
    "dash_flows": ("الوارد والصادر لكل جهة", "Incoming vs outgoing per agency"),
    "dash_overdue": ("المتأخرة لكل جهة", "Overdue per agency"),
    "dash_processing": ("مدة الإنجاز (أيام عمل)", "Processing times (working days)"),
    "dash_daily": ("المعاملات الجديدة يومياً", "New transactions per day"),
    "dash_daily_table": ("عرض القيم اليومية", "Show daily values"),
    "dash_bottlenecks": ("نقاط الاختناق", "Bottlenecks"),
    "dash_quality": ("جودة بيانات الجهات", "Data quality per agency feed"),
    "agency": ("الجهة", "Agency"),
    "count": ("العدد", "Count"),
    "median_days": ("الوسيط", "Median"),
    "p90_days": ("المئين 90", "90th percentile"),
    "all_types": ("كل الأنواع", "All types"),
    "open_count": ("مفتوحة", "Open"),
    "max_wait": ("أطول انتظار", "Longest wait"),
    "median_wait": ("وسيط الانتظار", "Median wait"),
    "day": ("اليوم", "Day"),
    "last_event": ("آخر حدث", "Last event"),
    "events": ("الأحداث", "Events"),
    "rejected": ("مرفوضة", "Rejected"),
    "duplicates": ("مكررة", "Duplicates"),
    "conflicts": ("تعارضات", "Conflicts"),
    "unknown_status": ("حالة غير معروفة", "Unknown status"),
    "out_of_order": ("خارج الترتيب", "Out of order"),
    "rejected_rate": ("نسبة الرفض", "Rejected rate"),
    "incoming": ("وارد", "Incoming"),
    "outgoing": ("صادر", "Outgoing"),
    "never": ("لا يوجد", "Never"),
    "empty": ("لا توجد بيانات.", "No data."),
}


def translate(key: str, lang: Lang, **values: object) -> str:
    """The string in ``lang``; an unknown key shows itself so it is noticed, never crashes a page."""
    ar, en = STRINGS.get(key, (key, key))
    text = ar if lang == "ar" else en
    return text.format(**values) if values else text


def _riyadh(value: date | datetime) -> date:
    if isinstance(value, datetime):
        return value.astimezone(RIYADH).date() if value.tzinfo is not None else value.date()
    return value


def gregorian(value: date | datetime | None, lang: Lang) -> str:
    """``12 نوفمبر 2026`` / ``12 Nov 2026``, in Riyadh time."""
    if value is None:
        return ""
    d = _riyadh(value)
    months = GREGORIAN_MONTHS_AR if lang == "ar" else GREGORIAN_MONTHS_EN
    return f"{d.day} {months[d.month - 1]} {d.year}"


def hijri(value: date | datetime | None, lang: Lang) -> str:
    """``10 جمادى الأولى 1448 هـ`` / ``10 Jumada al-Ula 1448 AH``; empty outside the Umm al-Qura range."""
    if value is None:
        return ""
    try:
        y, m, d = (int(p) for p in to_hijri_string(_riyadh(value)).split("-"))
    except NormalizationError:
        return ""
    months = HIJRI_MONTHS_AR if lang == "ar" else HIJRI_MONTHS_EN
    return f"{d} {months[m - 1]} {y} {translate('hijri_suffix', lang)}"


def clock(value: datetime | None) -> str:
    """Riyadh wall-clock time, 24-hour, as agencies write it."""
    if value is None:
        return ""
    local = value.astimezone(RIYADH) if value.tzinfo is not None else value
    return local.strftime("%H:%M")
