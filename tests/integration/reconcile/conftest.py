from pathlib import Path

import pytest

from autoinvest.config import Settings
from tests.support.simulator import RunningSimulator
from tests.support.trading import settings_for


@pytest.fixture
def settings(simulator: RunningSimulator, tmp_path: Path) -> Settings:
    return settings_for(simulator, tmp_path)
