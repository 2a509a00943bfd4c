from collections.abc import Iterator

import pytest

from tests.support.simulator import RunningSimulator, simulator  # noqa: F401


@pytest.fixture
def sim(simulator: RunningSimulator) -> Iterator[RunningSimulator]:  # noqa: F811
    """The shared simulator, with faults cleared and its clock offset put back after the test."""
    simulator.admin.clear_faults()
    try:
        yield simulator
    finally:
        simulator.admin.clear_faults()
        simulator.admin.set_clock_offset(0)
