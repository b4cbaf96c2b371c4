"""A worker process that runs the projections until killed (crash tests)."""

import sys
import time

from infrastructure.settings import load_settings
from interfaces.composition import build_system

READY = "PROJECTION-WORKER-READY"

if __name__ == "__main__":
    system = build_system(load_settings(database_url=sys.argv[1]))
    system.projections.start()
    # Log lines from the runner threads share stdout and may interleave with this.
    print(READY, flush=True)
    while True:
        time.sleep(1)
