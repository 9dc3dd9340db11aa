"""Streaming chat: print each piece of the answer as it arrives.

python examples/streaming.py
"""

from _emulated import real_api_or_emulator

from runcrate import Runcrate

with real_api_or_emulator(), Runcrate() as client:
    stream = client.models.chat_completion(
        model="deepseek-ai/DeepSeek-V3",
        messages=[{"role": "user", "content": "Tell me a short story"}],
        stream=True,
    )
    with stream:  # closes the connection even if we stop early
        for chunk in stream:
            if chunk["choices"]:
                print(chunk["choices"][0]["delta"].get("content", ""), end="", flush=True)
    print()
