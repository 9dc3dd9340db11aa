"""Generate a video, reporting each status, and save it to drone.mp4.

python examples/video.py
"""

from _emulated import real_api_or_emulator

from runcrate import Runcrate, VideoGenerationError

with real_api_or_emulator(), Runcrate() as client:
    try:
        job = client.models.generate_video_and_save(
            "drone.mp4",
            model="google/veo-3.0",
            prompt="A drone flying over mountains",
            duration=8,
            poll_interval=1,
            timeout=600,
            on_status=lambda j: print(f"Status: {j.status}"),
        )
    except VideoGenerationError as e:
        print(f"Video failed: {e.message}")
    else:
        print(f"Saved drone.mp4 (job {job.id})")
