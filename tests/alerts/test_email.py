"""The managers' daily email end to end: store -> digest -> templates -> smtplib -> aiosmtpd."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from alerts.email import EmailNotifier, SmtpSettings, render_email
from tests.alerts.support import NOW, RecordingObserver, check_run, config, dispatcher, open_finding, resolve
from tests.alerts.test_notifier_kit import ALERT, manager_digest
from watchdog.config import EmailConfig
from watchdog.notifiers import build_notifiers
from watchdog.notify import DeliveryError, Secret
from watchdog.simulators.smtp import FakeSmtp
from watchdog.store.db import Store

D = Decimal
YESTERDAY = NOW - timedelta(hours=30)


def seed(store: Store) -> None:
    """Yesterday: 1 order missing, £3.33 VAT. Today: 3 orders missing, 4 oversell units, £20.00 VAT, 1 tracking."""
    open_finding(store, "order:000000001", check="missing_orders", at=YESTERDAY, measures={"grand_total": D("100.00")})
    for n in (2, 3):
        open_finding(store, f"order:00000000{n}", check="missing_orders", at=NOW - timedelta(hours=2),
                     measures={"grand_total": D("20.25")})
    gone = open_finding(store, "order:000000009", check="missing_orders", at=NOW - timedelta(hours=5))
    resolve(store, gone, NOW - timedelta(hours=1))
    open_finding(store, "sku:A", at=NOW - timedelta(hours=3), severity="critical",
                 measures={"difference": D("4"), "units": D("4")})
    open_finding(store, "sku:B", at=NOW - timedelta(hours=3), measures={"difference": D("-2"), "units": D("2")})
    open_finding(store, "creditmemo:000000077", check="missing_credit_notes", owner="finance", at=YESTERDAY,
                 measures={"vat": D("3.33"), "amount": D("19.98")})
    open_finding(store, "creditmemo:000000078", check="missing_credit_notes", owner="finance",
                 at=NOW - timedelta(hours=1), measures={"vat": D("16.67"), "amount": D("100.00")})
    open_finding(store, "order:000000005", check="rejected_tracking", at=NOW - timedelta(hours=4),
                 measures={"units": 1})
    for hours in range(1, 24, 2):
        check_run(store, "stock_divergence", "ok", NOW - timedelta(hours=hours))
        check_run(store, "missing_credit_notes", "ok", NOW - timedelta(hours=hours))
        check_run(store, "missing_orders", "ok", YESTERDAY + timedelta(hours=hours))
    check_run(store, "missing_orders", "not_evaluated", NOW - timedelta(minutes=5), error="magento unreachable")


@pytest.fixture
def smtp_config(smtp: FakeSmtp):  # type: ignore[no-untyped-def]
    cfg = config(smtp_port=smtp.port, to=("ops-manager@acme.test", "finance@acme.test"))
    return replace(cfg, email=replace(cfg.email, username=Secret("mailer"), password=Secret("smtp-pass-9876")))


def test_the_daily_email_arrives_with_both_parts_subject_and_headline_numbers(
        store: Store, smtp: FakeSmtp, smtp_config) -> None:  # type: ignore[no-untyped-def]
    seed(store)
    observer = RecordingObserver()
    d = dispatcher(store, smtp_config, build_notifiers(smtp_config), observer=observer,
                   checks=("stock_divergence", "missing_orders", "missing_credit_notes", "rejected_tracking"))

    summary = d.send_digests(NOW, "email")

    assert [o.status for o in summary.outcomes] == ["sent"]
    [mail] = smtp.messages
    assert set(mail.rcpt_tos) == {"ops-manager@acme.test", "finance@acme.test"}
    msg = mail.parsed()
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    assert msg["Subject"] == ("[acme] Watchdog daily digest 2026-11-26: 8 open, 7 new, 1 resolved, "
                              "2 check(s) NOT CHECKED")
    assert msg["Message-ID"] == "<watchdog-digest.acme.2026-11-26@acme.test>"
    text = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
    for expected in ("Orders not in the warehouse: 3 (▲ up 2 since yesterday)",
                     "Oversell-risk units: 4 (▲ up 4 since yesterday)",
                     "VAT still overstated: £20.00 (▲ up £16.67 since yesterday)",
                     "Tracking not sent to customers: 1 (▲ up 1 since yesterday)",
                     "missing_orders: NOT CHECKED (last run not_evaluated at 26 Nov 11:55 (magento unreachable); "
                     "last success 26 Nov 05:00)",
                     "rejected_tracking: NOT CHECKED (no run in the period; no success on record)",
                     "stock_divergence: OK (12 of 12 runs ok)", "order:000000009"):
        assert expected in text
    for expected in ("£20.00", "▲ up £16.67 since yesterday", "NOT CHECKED", "order:000000001"):
        assert expected in html
    assert "<style" not in html
    assert 'style="' in html
    assert "<table" in html
    assert observer.digests == [("email", NOW)]
    assert observer.notifications == [("email", "sent")]


def test_html_is_autoescaped_and_only_web_links_are_rendered() -> None:
    hostile = replace(ALERT, summary="<script>alert(1)</script> & <b>bold</b>",
                      links={"magento": "javascript:alert(1)", "stokly": "https://app.stok.ly/items/1?a=1&b=2"})
    digest = replace(manager_digest(), new=(hostile,), oldest=(hostile,))
    msg = render_email(digest)
    html = msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
    text = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in html
    assert "javascript:" not in html
    assert 'href="https://app.stok.ly/items/1?a=1&amp;b=2"' in html
    assert "<script>alert(1)</script> & <b>bold</b>" in text  # the plain-text twin is not HTML


def test_starttls_is_required_when_configured(smtp: FakeSmtp) -> None:
    notifier = EmailNotifier(SmtpSettings(host=smtp.host, port=smtp.port, starttls=True, timeout=5))
    with pytest.raises(DeliveryError) as caught:
        notifier.send(manager_digest())
    assert caught.value.permanent
    assert caught.value.code == "starttls_unsupported"
    assert smtp.messages == []


def test_no_email_notifier_without_an_smtp_host() -> None:
    cfg = replace(config(), email=EmailConfig())
    assert "email" not in build_notifiers(cfg)
    assert "slack" in build_notifiers(cfg)

