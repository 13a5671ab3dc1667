# SPDX-License-Identifier: GPL-2.0
"""The argument parser of the suite's commands: a usage error is one line
naming the command, "<prog>: <message> (see --help)", and exit status 2."""
from __future__ import annotations

import argparse
import sys
from typing import NoReturn


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: {message} (see --help)", file=sys.stderr)
        sys.exit(2)
