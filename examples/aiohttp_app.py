"""Runcrate inside an aiohttp.web service, sharing the app's own ClientSession.

    python examples/aiohttp_app.py          # serves, asks itself once, prints the answer, stops
    python examples/aiohttp_app.py --serve  # keeps serving on http://127.0.0.1:8080

The app makes one ClientSession at startup; AsyncRuncrate uses it (and does
not close it: the app does, at cleanup).
"""

import asyncio
import sys

import aiohttp
from _emulated import real_api_or_emulator
from aiohttp import web

from runcrate import AsyncRuncrate

CLIENT = web.AppKey("runcrate", AsyncRuncrate)
HTTP = web.AppKey("http", aiohttp.ClientSession)


async def balance(request: web.Request) -> web.Response:
    client = request.app[CLIENT]
    balance, instances = await asyncio.gather(client.billing.get_balance(), client.instances.list())
    return web.json_response({"credits": balance.credits_balance, "instances": len(instances)})


async def runcrate_client(app: web.Application) -> object:
    app[HTTP] = aiohttp.ClientSession()
    app[CLIENT] = AsyncRuncrate(http=app[HTTP])
    yield
    await app[HTTP].close()


def make_app() -> web.Application:
    app = web.Application()
    app.cleanup_ctx.append(runcrate_client)
    app.router.add_get("/balance", balance)
    return app


async def ask_once() -> None:
    runner = web.AppRunner(make_app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/balance") as answer:
            print(f"GET /balance -> {answer.status} {await answer.json()}")
    finally:
        await runner.cleanup()


with real_api_or_emulator():
    if "--serve" in sys.argv:
        web.run_app(make_app(), host="127.0.0.1", port=8080)
    else:
        asyncio.run(ask_once())
