"""A worker process that runs the projections until killed (crash tests)."""

import sys
import time

from infrastructure.settings import load_settings
from interfaces.composition import build_system

if __name__ == "__main__":
    system = build_system(load_settings(database_url=sys.argv[1]))
    system.projections.start()
    print("ready", flush=True)
    while True:
        time.sleep(1)
