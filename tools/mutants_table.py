#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Description: python3 -m aiosuite.mutants_table, by its documented name."""
import runpy
import sys
from pathlib import Path

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    runpy.run_module("aiosuite.mutants_table", run_name="__main__", alter_sys=True)
