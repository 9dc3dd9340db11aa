"""Generate an image and save it to cityscape.png.

python examples/images.py
"""

from _emulated import real_api_or_emulator

from runcrate import Runcrate

with real_api_or_emulator(), Runcrate() as client:
    image = client.models.generate_image(
        model="black-forest-labs/FLUX.1-schnell",
        prompt="A futuristic cityscape at sunset",
        width=1024,
        height=768,
        seed=42,
    )
    image.data[0].save("cityscape.png")
    print("Saved cityscape.png")
