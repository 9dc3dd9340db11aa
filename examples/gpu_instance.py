"""Launch a GPU instance, wait until it runs, then terminate it.

    python examples/gpu_instance.py

Without RUNCRATE_API_KEY it runs against a local emulator. With a real key
it launches (and pays for) a real instance for a few seconds.
"""

import time

from _emulated import real_api_or_emulator

from runcrate import Runcrate

with real_api_or_emulator(), Runcrate() as client:
    key = client.ssh_keys.create(name="example-key", public_key="ssh-ed25519 AAAAexample example@runcrate")
    instance = client.instances.create(name="example-run", ssh_key_id=key.id, gpu_type="A4000", max_runtime_minutes=30)
    print(f"Created {instance.id}: {instance.status}")
    try:
        status = client.instances.get_status(instance.id)
        while status.status != "running":
            time.sleep(0.5)
            status = client.instances.get_status(instance.id)
        print(f"Running at {status.ip}")
    finally:
        client.instances.terminate(instance.id)
        client.ssh_keys.delete(key.id)
        print("Terminated")
