#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Description: python3 -m aiosuite.calibrate, by its documented name."""
import runpy
import sys
from pathlib import Path

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    runpy.run_module("aiosuite.calibrate", run_name="__main__", alter_sys=True)
