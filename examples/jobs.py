"""Upload a small project, run it as a job on an H100, follow its log, wait for it, and download what it wrote.

python examples/jobs.py
"""

import tempfile
from pathlib import Path

from _emulated import real_api_or_emulator

from runcrate import JobWaitTimeoutError, Runcrate

with tempfile.TemporaryDirectory() as scratch:
    project = Path(scratch) / "project"
    project.mkdir()
    (project / "train.py").write_text('import os\nopen(os.environ["RUNCRATE_OUTPUT_DIR"] + "/done.txt", "w")\n')

    with real_api_or_emulator(), Runcrate() as client:
        upload = client.jobs.uploads.upload(project)
        print(f"Uploaded the project as {upload.upload_id}")
        job = client.jobs.run(
            command="python code/train.py",
            gpu_type=["H100", "A100-80GB"],
            max_runtime_minutes=30,
            code={"upload_id": upload.upload_id},
            tags={"example": "jobs"},
        )
        print(f"Job {job.id} is {job.status}")
        for chunk in client.jobs.follow_logs(job.id, timeout=600):
            print(f"  | {chunk.text}", end="")
        try:
            job = client.jobs.wait(job.id, timeout=600, on_status=lambda j: print(f"Status: {j.status}"))
        except JobWaitTimeoutError as e:
            print(f"Still {e.job.status} after 10 minutes; it keeps running")
        else:
            print(f"Job {job.id} {job.status} with exit code {job.exit_code}")
            for artifact in client.jobs.artifacts.list(job.id):
                saved = client.jobs.artifacts.download(job.id, artifact.path, to=Path(artifact.path).name)
                print(f"Downloaded {artifact.path} ({artifact.bytes} bytes) to {saved}")
