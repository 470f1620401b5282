"""The coder's trained model and word tables are cached on disk; tests build them once, in a
temporary folder, instead of writing under the user's P4DP_HOME."""

import pytest


@pytest.fixture(scope="session", autouse=True)
def _model_cache(tmp_path_factory: pytest.TempPathFactory):
    from p4dp.coding import model

    folder = tmp_path_factory.mktemp("coding-cache")
    original = model._cache_dir
    model._cache_dir = lambda: folder
    yield
    model._cache_dir = original
