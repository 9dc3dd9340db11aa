"""Every item of a paged listing, fetched as the iteration reaches it: sync iterators and async iterators."""

from __future__ import annotations

import math
from typing import Any, List

import pytest

import runcrate
import runcrate_async


async def _collect(items: Any, stop_after: int) -> List[Any]:
    found = []
    async for item in items:
        found.append(item)
        if len(found) == stop_after:
            break
    await items.aclose()
    return found


def every(api: Any, name: str, stop_after: int = -1, **kwargs: Any) -> List[Any]:
    """The items of ``name`` through the driver's mode, stopping after ``stop_after`` of them."""
    items = getattr(api.module, name)(api.session, **kwargs)
    if api.mode == "async":
        return api.run(_collect(items, stop_after))
    found = []
    for item in items:
        found.append(item)
        if len(found) == stop_after:
            break
    items.close()
    return found


def test_every_template_and_no_page_past_the_last(api: Any, emu: Any) -> None:
    total = api("list_templates").total
    templates = every(api, "list_all_templates", page_size=5)
    assert [t.id for t in templates] == [t.id for t in api("list_templates", page_size=100)]
    assert all(isinstance(t, runcrate.Template) for t in templates) and len(templates) == total
    assert emu.count("GET /api/v1/templates") == math.ceil(total / 5) + 2  # and the two listings above


def test_leaving_early_fetches_no_more(api: Any, emu: Any) -> None:
    assert len(every(api, "list_all_templates", stop_after=2, page_size=5)) == 2
    assert emu.count("GET /api/v1/templates") == 1


def test_filters_go_with_every_page(api: Any, emu: Any) -> None:
    found = every(api, "list_all_templates", page_size=1, category="image")
    assert found and {t.category for t in found} == {"image"}


def test_every_transaction_by_offset(api: Any, emu: Any) -> None:
    for amount in (20, 21, 22, 23, 24):
        api("top_up", amount_usd=amount)
    everything = every(api, "list_all_transactions", limit=2)
    assert [t.id for t in everything] == [t.id for t in api("list_transactions", limit=100)]
    assert len(everything) == 6 and emu.count("GET /api/v1/billing/transactions") == 3 + 1
    credited = every(api, "list_all_transactions", type="credit", limit=100)
    assert len(credited) == 6


def test_an_error_on_a_later_page_is_raised_in_the_loop(api: Any, emu: Any) -> None:
    emu.fail("/api/v1/templates", method="GET", status=500, count=10)
    with pytest.raises(runcrate.InternalServerError) as info:
        every(api, "list_all_templates")
    assert info.value.job is None


def test_the_client_methods(emu: Any) -> None:
    import asyncio

    with emu.make_client() as client:
        assert len(list(client.templates.list_all(page_size=7))) == client.templates.list().total
        assert len(list(client.billing.list_all_transactions())) == 1

    async def main() -> int:
        async with runcrate_async.AsyncRuncrate(api_key=emu.api_key, base_url=emu.url) as aclient:
            return len([t async for t in aclient.templates.list_all(page_size=7)])

    assert asyncio.run(main()) > 0
