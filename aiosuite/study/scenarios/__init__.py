# SPDX-License-Identifier: GPL-2.0
"""Description: the scenarios of the study, one module each
(scenarios/<name>.py), found by name.  A scenario module holds NAME, SEED
(the seed thread it comes from), QUESTION and run(study) -> Scenario;
NAMES is the order in which the study runs them.  A new scenario is a new
file here and its name in NAMES.
"""
from __future__ import annotations

import importlib
from typing import Protocol, cast

from aiosuite.study.core import Scenario, Study

NAMES = ("blocking", "batching", "plug", "exit", "vectored", "engines", "loop", "buffered")


class Plugin(Protocol):
    """What the study reads of a scenario module."""
    NAME: str
    SEED: str
    QUESTION: str

    def run(self, study: Study) -> Scenario: ...


def load(name: str) -> Plugin:
    """The scenario module of that name (ImportError when there is none)."""
    return cast(Plugin, importlib.import_module(f"{__name__}.{name}"))
