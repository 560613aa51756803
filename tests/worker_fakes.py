"""Stand-ins for the validation that runs in worker processes, patched in by the tests of its faults.

The workers are forked from the test's process, so a function patched there is what they run.
"""

from __future__ import annotations

import multiprocessing
import os

import pytest

from processor import validate

FORK_ONLY = pytest.mark.skipif(
    multiprocessing.get_start_method() != "fork", reason="a patched function reaches the workers by fork"
)

_TEST_PROCESS = os.getpid()
_REAL_VALIDATE_WORKBOOK = validate.validate_workbook
POISONED = "doc-hai"  # a file with this in its name kills the process that reads it


def validate_outside_the_main_process(config, incoming, accept_partial=False):
    """validate_workbook that fails if called in the test's own process, and that aborts its process on
    a poisoned file, as native code does on a crafted sheet."""
    assert os.getpid() != _TEST_PROCESS, f"{incoming.file.display_name} was read in the main process"
    if POISONED in incoming.file.display_name:
        os._exit(134)
    return _REAL_VALIDATE_WORKBOOK(config, incoming, accept_partial)
