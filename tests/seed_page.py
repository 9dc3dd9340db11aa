"""The examples of the public SDK page, verbatim, section by section.

Each runs unchanged in the tests, with RUNCRATE_BASE_URL and
RUNCRATE_INFERENCE_URL pointing at the emulator.
"""

SECTIONS = {
    "quick start": """
from runcrate import Runcrate

client = Runcrate(api_key="rc_live_YOUR_API_KEY")

# Chat completion
response = client.models.chat_completion(
    model="deepseek-ai/DeepSeek-V3",
    messages=[{"role": "user", "content": "Hello!"}],
)
print(response.choices[0].message.content)

# List GPU instances
instances = client.instances.list()
for inst in instances:
    print(f"{inst.name}{inst.status}")

client.close()
""",
    "chat completions": """
response = client.models.chat_completion(
    model="deepseek-ai/DeepSeek-V3",
    messages=[{"role": "user", "content": "Explain quantum computing"}],
    max_tokens=500,
    temperature=0.7,
)
print(response.choices[0].message.content)
""",
    "streaming": """
stream = client.models.chat_completion(
    model="deepseek-ai/DeepSeek-V3",
    messages=[{"role": "user", "content": "Tell me a story"}],
    stream=True,
)
for chunk in stream:
    delta = chunk["choices"][0]["delta"]
    print(delta.get("content", ""), end="", flush=True)
""",
    "image generation": """
image = client.models.generate_image(
    model="black-forest-labs/FLUX.1-schnell",
    prompt="A futuristic cityscape at sunset",
    width=1024,
    height=768,
)

# Save directly
image.data[0].save("output.png")
""",
    "model-specific parameters": """
# Seed for reproducibility
image = client.models.generate_image(
    model="black-forest-labs/FLUX.1-schnell",
    prompt="A cat in space",
    seed=42,
    num_inference_steps=4,
    guidance=3.5,
)

# Image editing — pass a file path, URL, or base64 string
image = client.models.generate_image(
    model="black-forest-labs/FLUX.1-kontext-pro",
    prompt="Make the sky purple",
    image="./photo.png",             # file path (auto base64-encoded)
)

# Image editing with URL
image = client.models.generate_image(
    model="Wan-AI/Wan2.6-Image-Edit",
    prompt="Remove the background",
    image="https://example.com/photo.png",  # URL (passed as-is)
)

# ControlNet / Canny
image = client.models.generate_image(
    model="some-controlnet-model",
    prompt="A building",
    control_image="./edges.png",
    strength=0.8,
)
""",
    "video generation": """
# Submit, poll, and save in one call
job = client.models.generate_video_and_save(
    "output.mp4",
    model="google/veo-3.0",
    prompt="A drone flying over mountains",
    duration=8,
    on_status=lambda j: print(f"Status: {j.status}"),
)
""",
    "video lifecycle": """
job = client.models.generate_video(
    model="google/veo-3.0",
    prompt="Ocean waves at sunset",
)

# Poll until done
import time
while job.status not in ("completed", "failed"):
    time.sleep(5)
    job = client.models.get_video_status(job.id)

# Download
video_bytes = client.models.download_video(job.id)
with open("video.mp4", "wb") as f:
    f.write(video_bytes)
""",
    "video parameters": """
job = client.models.generate_video(
    model="some-img2vid-model",
    prompt="Animate this scene",
    image="./first_frame.png",   # image-to-video
    seed=42,
    negative_prompt="blurry",
)
""",
    "text-to-speech": """
audio = client.models.text_to_speech(
    model="hexgrad/Kokoro-82M",
    input="Hello from Runcrate!",
    voice="af_heart",
)
with open("speech.mp3", "wb") as f:
    f.write(audio)
""",
    "speech parameters": """
audio = client.models.text_to_speech(
    model="hexgrad/Kokoro-82M",
    input="Hello!",
    voice="af_heart",
    speed=1.5,           # model-specific
    language="en",       # model-specific
)
""",
    "transcription": """
with open("recording.wav", "rb") as f:
    result = client.models.transcribe(
        model="openai/whisper-1",
        file=f,
        filename="recording.wav",
        language="en",              # hint language
        response_format="srt",     # text, json, srt, vtt
    )
print(result.text)
""",
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
    "quick start": ["You said: Hello!. This reply comes from the Runcrate emulator."],
    "chat completions": ["You said: Explain quantum computing."],
    "streaming": ["You said: Tell me a story. This reply comes from the Runcrate emulator."],
    "image generation": [],
    "model-specific parameters": [],
    "video generation": ["Status: processing\nStatus: completed\n"],
    "video lifecycle": [],
    "video parameters": [],
    "text-to-speech": [],
    "speech parameters": [],
    "transcription": ["1\n00:00:00,000 --> 00:00:00,500\nTranscript of recording.wav: 16000 bytes of audio.\n"],
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

# Files the examples read, made in their working directory first.
INPUT_FILES = {
    "photo.png": b"\x89PNG\r\n\x1a\n" + bytes(64),
    "edges.png": b"\x89PNG\r\n\x1a\n" + bytes(64),
    "first_frame.png": b"\x89PNG\r\n\x1a\n" + bytes(64),
    "recording.wav": bytes(16000),
}

# Files the examples write, with how each must begin.
OUTPUT_FILES = {
    "image generation": {"output.png": b"\x89PNG"},
    "video generation": {"output.mp4": b"\x00\x00\x00\x18ftyp"},
    "video lifecycle": {"video.mp4": b"\x00\x00\x00\x18ftyp"},
    "text-to-speech": {"speech.mp3": b"\xff\xfb"},
}
