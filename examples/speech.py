"""Text to speech, saved to speech.mp3.

python examples/speech.py
"""

from _emulated import real_api_or_emulator

from runcrate import Runcrate

with real_api_or_emulator(), Runcrate() as client:
    audio = client.models.text_to_speech(
        model="hexgrad/Kokoro-82M",
        input="Hello from Runcrate!",
        voice="af_heart",
        speed=1.0,
    )
    with open("speech.mp3", "wb") as f:
        f.write(audio)
    print(f"Saved speech.mp3 ({len(audio)} bytes)")
