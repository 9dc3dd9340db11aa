"""The examples of the public SDK page, verbatim, section by section.

Each runs unchanged in the tests, with RUNCRATE_BASE_URL and
RUNCRATE_INFERENCE_URL pointing at the emulator.
"""

SECTIONS = {
    "context manager": """
from runcrate import Runcrate

with Runcrate(api_key="rc_live_YOUR_API_KEY") as client:
    balance = client.billing.get_balance()
    print(f"Credits: ${balance.credits_balance}")
""",
    "configuration": """
from runcrate import Runcrate

client = Runcrate(
    api_key="rc_live_...",                    # or RUNCRATE_API_KEY env var
    base_url="https://runcrate.ai",           # infrastructure API
    inference_url="https://api.runcrate.ai",  # model inference API
    timeout=30,                               # seconds
    max_retries=3,                            # retry on 429/5xx
    environment="production",                 # optional — target a specific environment
)
""",
    "environments": """
from runcrate import Runcrate

# Default environment (e.g., main)
client = Runcrate(api_key="rc_live_...")

# Specific environment
staging = Runcrate(api_key="rc_live_...", environment="staging")
prod    = Runcrate(api_key="rc_live_...", environment="production")

# Each client only sees resources in its own environment
staging.instances.list()   # only staging instances
prod.instances.list()      # only production instances
""",
    "gpu instances": """
# List instances
instances = client.instances.list()
instances = client.instances.list(search="training")

# Browse available GPU types
types = client.instances.list_types(gpu_type="A100")
for t in types:
    print(f"{t.id}{t.gpu_type} x{t.gpu_count} — ${t.hourly_rate}/hr")

# Create an instance
instance = client.instances.create(
    name="training-run",
    ssh_key_id="your-key-id",
    gpu_type="A100",
    gpu_count=1,
    startup_commands=["pip install torch"],
)
print(f"Created: {instance.id}{instance.status}")

# Check status
status = client.instances.get_status(instance.id)
print(f"Status: {status.status}, IP: {status.ip}")

# Terminate
client.instances.terminate(instance.id)
""",
    "ssh keys": """
# List keys
keys = client.ssh_keys.list()

# Add a key
key = client.ssh_keys.create(
    name="my-laptop",
    public_key="ssh-ed25519 AAAA...",
)

# Delete a key
client.ssh_keys.delete(key.id)
""",
    "storage": """
# List available regions (with friendly names)
regions = client.storage.list_regions()
for r in regions:
    print(f"{r.name} ({r.provider})")

# List volumes in the current environment
volumes = client.storage.list()

# Get a specific volume
volume = client.storage.get("volume-id")

# Create a 100GB volume
volume = client.storage.create(
    name="datasets",
    size_gb=100,
    region="us-east-1",
)

# Resize (increase capacity only)
client.storage.resize(volume.id, size_gb=200)

# Delete (refunds unused prepaid days pro-rata)
result = client.storage.delete(volume.id)
print(f"Refunded ${result.refund_amount}")
""",
    "billing": """
# Check balance
balance = client.billing.get_balance()
print(f"Credits: ${balance.credits_balance}")

# List transactions
txns = client.billing.list_transactions(limit=20)
for t in txns:
    print(f"{t.type}: ${t.amount}")
print(f"Has more: {txns.has_more}")

# Usage summary
usage = client.billing.usage(from_date="2025-01-01", to_date="2025-01-31")
print(f"Total cost: ${usage.total_cost}")
""",
    "templates": """
# List templates with search
templates = client.templates.list(search="pytorch", category="ml")
for t in templates:
    print(f"{t.name}{t.category}")
print(f"Total: {templates.total}")
""",
    "error handling": """
from runcrate import (
    NotFoundError,
    AuthenticationError,
    RateLimitError,
    InsufficientCreditsError,
    BadRequestError,
    UnprocessableEntityError,
)

try:
    client.instances.get("nonexistent")
except NotFoundError as e:
    print(f"Not found: {e.message}")
except AuthenticationError:
    print("Invalid API key")
except RateLimitError:
    print("Rate limited — retry later")
except InsufficientCreditsError as e:
    print(f"Not enough credits: {e.message}")
except UnprocessableEntityError as e:
    print(f"Validation error: {e.message}")  # e.g. invalid model params
except BadRequestError as e:
    print(f"Bad request: {e.message}")
""",
}

# What each section prints against a fresh emulator (a line, or a piece of one).
EXPECTED = {
    "context manager": ["Credits: $100.0"],
    "configuration": [],
    "environments": [],
    "gpu instances": ["A100 x1 — $1.29/hr", "Created: inst_", "Status: running, IP: 203.0.113."],
    "ssh keys": [],
    "storage": ["us-east-1 (aws-s3)", "Refunded $"],
    "billing": ["Credits: $", "credit: $100.0", "Has more: False", "Total cost: $0.0143"],
    "templates": ["PyTorch (latest)ml", "Total: 3"],
    "error handling": ["Not found: Instance not found"],
}
