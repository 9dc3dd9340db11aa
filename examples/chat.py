"""Chat completion.

    python examples/chat.py

Without RUNCRATE_API_KEY it runs against a local emulator.
"""

from _emulated import real_api_or_emulator

from runcrate import Runcrate

with real_api_or_emulator(), Runcrate() as client:
    response = client.models.chat_completion(
        model="deepseek-ai/DeepSeek-V3",
        messages=[{"role": "user", "content": "Explain quantum computing in one sentence."}],
        max_tokens=200,
        temperature=0.7,
    )
    print(response.choices[0].message.content)
    print(f"({response.usage.total_tokens if response.usage else '?'} tokens)")
