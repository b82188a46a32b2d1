"""Submit one job with Ray's SDK, which also uploads its working dir and modules:
`python -m zwarm_ls.executors.submit REQUEST.json`. A short-lived process of its own, so
that the long-lived relay never loads Ray (see jobs_api.py). Exit 0 when submitted; else
the reason on stderr and exit 1."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

RETRY_S = 30.0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    request = json.loads(Path(args[0]).read_text())
    from ray.job_submission import JobSubmissionClient

    try:
        client = JobSubmissionClient(request.pop("address"))
        deadline = time.monotonic() + RETRY_S
        while True:
            try:
                client.submit_job(**request)
                return 0
            except RuntimeError as exc:
                # A head that has just started answers 500 until its job agent is up.
                if "No available agent" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
    except Exception as exc:
        print(f"{exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
