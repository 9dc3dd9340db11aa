"""Runcrate inside an aiohttp.web service, sharing the app's own ClientSession.

    python examples/aiohttp_app.py          # serves, asks itself once, prints the answer, stops
    python examples/aiohttp_app.py --serve  # keeps serving on http://127.0.0.1:8080

The app makes one ClientSession at startup; AsyncRuncrate uses it (and does
not close it: the app does, at cleanup). /chat relays a chat stream to the
web client as it arrives; `async with` closes the upstream stream (and stops
the paid generation) when the web client goes away mid-answer.
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


async def chat(request: web.Request) -> web.StreamResponse:
    client = request.app[CLIENT]
    messages = [{"role": "user", "content": request.query.get("q", "Hello!")}]
    stream = await client.models.chat_completion(model="deepseek-ai/DeepSeek-V3", messages=messages, stream=True)
    response = web.StreamResponse(headers={"Content-Type": "text/plain; charset=utf-8"})
    await response.prepare(request)
    async with stream:  # however the relay ends (the web client leaving included), the upstream closes
        async for chunk in stream:
            if chunk["choices"]:
                await response.write(chunk["choices"][0]["delta"].get("content", "").encode())
    return response


async def runcrate_client(app: web.Application) -> object:
    app[HTTP] = aiohttp.ClientSession()
    app[CLIENT] = AsyncRuncrate(http=app[HTTP])
    yield
    await app[HTTP].close()


def make_app() -> web.Application:
    app = web.Application()
    app.cleanup_ctx.append(runcrate_client)
    app.router.add_get("/balance", balance)
    app.router.add_get("/chat", chat)
    return app


async def ask_once() -> None:
    runner = web.AppRunner(make_app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/balance") as answer:
                print(f"GET /balance -> {answer.status} {await answer.json()}")
            async with http.get(f"http://127.0.0.1:{port}/chat", params={"q": "Say hi"}) as answer:
                print(f"GET /chat -> {answer.status} {await answer.text()}")
    finally:
        await runner.cleanup()


with real_api_or_emulator():
    if "--serve" in sys.argv:
        web.run_app(make_app(), host="127.0.0.1", port=8080)
    else:
        asyncio.run(ask_once())
