"""Quick start: list GPU offers and instances, check the balance and templates.

    python examples/quickstart.py

Without RUNCRATE_API_KEY it runs against a local emulator. It only reads:
nothing is launched or charged.
"""

from _emulated import real_api_or_emulator

from runcrate import Runcrate

with real_api_or_emulator(), Runcrate() as client:
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
