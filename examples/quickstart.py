"""Quick start: a chat completion, then GPU offers, instances, balance and templates.

    python examples/quickstart.py

Without RUNCRATE_API_KEY it runs against a local emulator. With a key it
costs one short chat completion; nothing is launched.
"""

from _emulated import real_api_or_emulator

from runcrate import Runcrate

with real_api_or_emulator(), Runcrate() as client:
    response = client.models.chat_completion(
        model="deepseek-ai/DeepSeek-V3",
        messages=[{"role": "user", "content": "Hello!"}],
        max_tokens=100,
    )
    print(response.choices[0].message.content)

    balance = client.billing.get_balance()
    print(f"Credits: ${balance.credits_balance}")

    cheapest = min(client.instances.list_types(gpu_type="A100"), key=lambda t: t.hourly_rate)
    print(f"Cheapest A100: {cheapest.id} in {cheapest.region}, ${cheapest.hourly_rate}/hr")

    instances = client.instances.list()
    print(f"{len(instances)} instance(s)")
    for inst in instances:
        print(f"  {inst.name}: {inst.status}")

    templates = client.templates.list(search="pytorch")
    print(f"{templates.total} PyTorch template(s), e.g. {templates[0].name}")
