"""Top-ups (keyed: never charged twice), auto-recharge and payment methods."""

from __future__ import annotations

from typing import Any

import pytest

import runcrate


def test_a_top_up_adds_to_the_balance_once_per_key(api: Any, emu: Any) -> None:
    before = api("get_balance").credits_balance
    topup = api("top_up", amount_usd=25, idempotency_key="topup-1")
    assert isinstance(topup, runcrate.TopUp) and topup.status == "succeeded" and topup.amount_usd == 25.0
    assert topup.idempotency_key == "topup-1" and topup.invoice_number
    again = api("top_up", amount_usd=25, idempotency_key="topup-1")
    assert again.id == topup.id
    assert api("get_balance").credits_balance == pytest.approx(before + 25)
    assert [t.type for t in api("list_transactions")].count("credit") == 2  # the initial credits and this one


def test_a_lost_answer_is_resent_with_the_same_key_and_charges_once(api: Any, emu: Any) -> None:
    before = api("get_balance").credits_balance
    emu.fail("/api/v1/billing/topups", method="POST", drop="after_body")
    topup = api("top_up", amount_usd=30)
    keys = emu.idempotency_keys("POST /api/v1/billing/topups")
    assert len(keys) == 2 and keys[0] == keys[1] == topup.idempotency_key
    assert api("get_balance").credits_balance == pytest.approx(before + 30)


def test_every_error_carries_the_key(connect: Any, emu: Any) -> None:
    refused = {"error": {"code": "topup_cap_reached", "message": "the monthly cap is reached"}}
    emu.fail("/api/v1/billing/topups", method="POST", status=402, body=refused)
    with pytest.raises(runcrate.InsufficientCreditsError) as info:
        connect(emu.url)("top_up", amount_usd=50, idempotency_key="k-402")
    assert info.value.idempotency_key == "k-402" and info.value.code == "topup_cap_reached"
    emu.fail("/api/v1/billing/topups", method="POST", drop="before_body", count=5)
    with pytest.raises(runcrate.ConnectionError) as lost:
        connect(emu.url, max_retries=1)("top_up", amount_usd=50, idempotency_key="k-lost")
    assert lost.value.idempotency_key == "k-lost"


@pytest.mark.parametrize("outcome", ["requires_action", "declined", "processing"])
def test_a_top_up_that_did_not_succeed_is_an_answer(api: Any, emu: Any, outcome: str) -> None:
    emu.state.topup_outcome = outcome
    topup = api("top_up", amount_usd=20)
    assert topup.status == outcome and topup.balance_usd is None
    assert (topup.confirm_url is not None) is (outcome == "requires_action")
    assert (topup.reason == "card_declined") is (outcome == "declined")


def test_top_up_arguments_are_checked_before_sending(api: Any, emu: Any) -> None:
    for amount in (5, 20_000):
        with pytest.raises(ValueError, match="amount_usd"):
            api("top_up", amount_usd=amount)
    with pytest.raises(TypeError):
        api("top_up", amount_usd="20")
    assert emu.count("POST /api/v1/billing/topups") == 0


def test_auto_recharge_and_payment_methods(api: Any) -> None:
    assert api("get_auto_recharge").enabled is False
    setting = api("set_auto_recharge", enabled=True, threshold_usd=10, target_usd=50)
    assert isinstance(setting, runcrate.AutoRecharge) and setting.enabled and setting.target_usd == 50.0
    assert api("get_auto_recharge").threshold_usd == 10.0
    with pytest.raises(TypeError):
        api("set_auto_recharge", enabled="yes", threshold_usd=10, target_usd=50)
    (card,) = api("list_payment_methods")
    assert isinstance(card, runcrate.PaymentMethod) and card.last4 == "4242" and card.default is True


def test_the_error_keeps_its_key_through_pickle() -> None:
    import pickle

    error = runcrate.ConnectionError("lost", code="connection_error")
    error.idempotency_key = "k-1"
    assert pickle.loads(pickle.dumps(error)).idempotency_key == "k-1"
