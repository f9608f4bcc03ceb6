"""Pin the code version in these tests: other parts of the code base may change while a test
runs the same command twice, and a changed code version (rightly) means a new run."""

import pytest


@pytest.fixture(scope="module", autouse=True)
def _pinned_code_version():
    mp = pytest.MonkeyPatch()
    mp.setenv("LIQCASCADE_CODE_VERSION", "0.0.0+test")
    yield
    mp.undo()
