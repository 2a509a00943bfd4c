from tests.support.simulator import simulator  # noqa: F401
