"""Transcribe an audio file as SRT subtitles (the upload is streamed from disk).

    python examples/transcription.py [recording.wav]

Without a file argument it first makes one with text to speech.
"""

import sys

from _emulated import real_api_or_emulator

from runcrate import Runcrate

with real_api_or_emulator(), Runcrate() as client:
    if len(sys.argv) > 1:
        path = sys.argv[1]
    else:
        path = "recording.wav"
        with open(path, "wb") as out:
            out.write(client.models.text_to_speech(model="hexgrad/Kokoro-82M", input="Hello!", response_format="wav"))
    with open(path, "rb") as f:
        result = client.models.transcribe(
            model="openai/whisper-1",
            file=f,
            filename=path,
            language="en",
            response_format="srt",
        )
    print(result.text)
