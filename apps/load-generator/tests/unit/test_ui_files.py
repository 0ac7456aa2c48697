"""The UI build is served with a single-page fallback: UI paths get index.html, others stay 404."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient

from loadgen.api.ui_files import UiFiles


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<html>app</html>")
    (tmp_path / "assets" / "app.js").write_text("console.log(1)")
    app = Starlette(routes=[Mount("/", UiFiles(directory=tmp_path, html=True))])
    return TestClient(app)


@pytest.mark.parametrize("path", ["/", "/audience", "/conversations", "/audience/"])
def test_ui_paths_get_the_page(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.text == "<html>app</html>"


def test_files_are_served(client: TestClient) -> None:
    assert client.get("/assets/app.js").text == "console.log(1)"


@pytest.mark.parametrize("path", ["/api/nope", "/assets/missing.js", "/favicon.ico", "/metrics"])
def test_misses_outside_the_ui_stay_404(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 404
