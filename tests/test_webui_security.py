"""The running server against bad inputs and hostile requests (gradio_client and raw HTTP).

Two servers per module (each start costs 15-30 s): an open one on 127.0.0.1 with a 1 MB
upload cap, and one started with ``--auth``. Checked here:
- awkward and broken image files through ``/detect``: a result or a readable error, and
  the server keeps answering (8 clients at once included);
- server folders (batch, training dataset) stay inside the allowed roots whatever the
  path says (``..``, absolute paths elsewhere, symlinks out of a root);
- no endpoint takes another free-text path, a request cannot name a server file as its
  "upload", and Gradio's file route refuses files outside what it created;
- the upload size cap is enforced by the server itself, not only by well-behaved clients;
- ``--auth``: nothing (page, API, files, uploads) without logging in;
- a warning at start when listening on 0.0.0.0 without ``--auth``.
"""
from __future__ import annotations

import logging
import re
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict, List

import httpx
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError, AuthenticationError

from bad_inputs import write_corpus
from webui_server import ROOT, running_server, write_page

USER, PASSWORD = "tester", "pa:ss word"   # a password may hold ':' and spaces


@pytest.fixture(scope="module")
def server(tmp_path_factory, random_weights):
    yield from running_server(tmp_path_factory.mktemp("open"), random_weights, ["--max-file-size", "1mb"])


@pytest.fixture(scope="module")
def client(server):
    return Client(server.url, verbose=False)


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory, random_weights):
    yield from running_server(tmp_path_factory.mktemp("auth"), random_weights, ["--auth", f"{USER}:{PASSWORD}"])


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> Path:
    return write_page(tmp_path_factory.mktemp("page") / "page.jpg")


def _alive(client: Client, page: Path) -> None:
    record = client.predict(handle_file(str(page)), api_name="/detect")
    assert record["success"] is True and (record["width"], record["height"]) == (320, 240)


# ------------------------------------------------------------------------- bad uploads
SERVER_KINDS = ["zero_bytes", "random_bytes", "truncated_jpeg", "bomb_png", "svg_as_png", "pdf_as_png",
                "one_pixel", "png_16bit", "cmyk_jpeg", "exif_rotated", "animated_gif", "unicode_name"]


def test_bad_uploads_get_a_result_or_a_readable_error(client, server, page, tmp_path):
    corpus = write_corpus(tmp_path / "corpus")
    for kind in SERVER_KINDS:
        case, path = corpus[kind]
        if case.ok:
            record = client.predict(handle_file(str(path)), api_name="/detect")
            assert record["success"] is True, kind
            assert (record["width"], record["height"]) == case.size, kind
            assert record["image_path"] == case.name, kind
        else:
            with pytest.raises(AppError) as info:
                client.predict(handle_file(str(path)), api_name="/detect")
            message = str(info.value)
            # Either Gradio's own upload check or the decoder refuses it; both name the file.
            assert re.search(f"Not a readable image|{case.error}", message, re.IGNORECASE), (kind, message)
            assert case.name in message, (kind, message)
            assert "Traceback" not in message and "Internal error" not in message, (kind, message)
    _alive(client, page)
    # Every refusal was an expected error (Gradio logs those with their stack too, so look
    # for what friendly_errors logs for an unexpected exception instead).
    assert "request failed in" not in server.output()


def test_eight_concurrent_clients_are_all_served(server, page):
    results: List[Any] = [None] * 8

    def one(i: int) -> None:
        try:
            c = Client(server.url, verbose=False)
            results[i] = [c.predict(handle_file(str(page)), api_name="/detect")["success"] for _ in range(2)]
        except Exception as exc:   # reported below with the others
            results[i] = exc

    threads = [threading.Thread(target=one, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert results == [[True, True]] * 8


def test_upload_size_cap_is_enforced_by_the_server(server, client, page):
    big = b"\x89PNG\r\n\x1a\n" + bytes(1_200_000)                # over the 1 MB cap
    # gradio_client checks the cap itself; a raw request must be refused by the server too.
    r = httpx.post(server.url + "gradio_api/upload", files={"files": ("big.png", big, "image/png")}, timeout=60)
    assert r.status_code == 413, (r.status_code, r.text[:200])
    small = httpx.post(server.url + "gradio_api/upload", files={"files": ("p.jpg", page.read_bytes(), "image/jpeg")},
                       timeout=60)
    assert small.status_code == 200
    _alive(client, page)


def _call(server, endpoint: str, data: List[Any]) -> str:
    """Raw queue call (what a hand-written HTTP client sends); returns the event stream text."""
    r = httpx.post(f"{server.url}gradio_api/call/{endpoint}", json={"data": data}, timeout=60)
    r.raise_for_status()
    event_id = r.json()["event_id"]
    return httpx.get(f"{server.url}gradio_api/call/{endpoint}/{event_id}", timeout=120).text


def _file(path: str, name: str) -> Dict[str, Any]:
    return {"path": path, "orig_name": name, "meta": {"_type": "gradio.FileData"}}


def test_a_request_cannot_pass_a_server_file_as_its_upload(server, tmp_path):
    outside = write_page(tmp_path / "private.png")       # a real picture on the server, never uploaded
    text = _call(server, "detect", [_file(str(outside), "private.png"), 0.2, 0.5, 1.5, 960, "torch", False, "lines", True, 1.25])
    assert "event: error" in text and "boxes" not in text, text[:500]
    text = _call(server, "detect_batch", [[_file(str(outside), "private.png")], "", 0.2, 0.5, False, "lines", True, 1.25])
    assert "event: error" in text and "Images" not in text, text[:500]
    assert "not uploaded by a user" in server.output()       # Gradio's own check refused them
    # The same request with a really uploaded file works (the request format is right).
    up = httpx.post(server.url + "gradio_api/upload", files={"files": ("p.png", outside.read_bytes(), "image/png")},
                    timeout=60)
    uploaded = up.json()[0]
    text = _call(server, "detect", [_file(uploaded, "p.png"), 0.2, 0.5, 1.5, 960, "torch", False, "lines", True, 1.25])
    assert "event: complete" in text and '"success": true' in text, text[:500]


def test_file_route_serves_nothing_outside_what_gradio_created(server, page):
    up = httpx.post(server.url + "gradio_api/upload", files={"files": ("p.jpg", page.read_bytes(), "image/jpeg")},
                    timeout=60)
    assert httpx.get(f"{server.url}gradio_api/file={up.json()[0]}", timeout=30).status_code == 200
    data_file = write_page(server.data_dir / "inside_root.png")
    server.workdir_root.mkdir(parents=True, exist_ok=True)
    secret = server.workdir_root / "checkpoint.pt"
    secret.write_bytes(b"training state")
    for target in ["/etc/passwd", str(ROOT / "README.md"), str(data_file), str(secret),
                   str(server.output_dir / ".." / "server.log")]:
        r = httpx.get(f"{server.url}gradio_api/file={target}", timeout=30)
        assert r.status_code == 403, (target, r.status_code)
        assert b"root:" not in r.content and b"training state" not in r.content


# --------------------------------------------------------------------- server folders
def test_only_the_folder_endpoints_take_free_text_paths(client):
    api = client.view_api(return_format="dict", print_info=False)
    text_params = {(name, p["parameter_name"]) for name, ep in api["named_endpoints"].items()
                   for p in ep["parameters"] if p["python_type"]["type"] == "str"}
    # Each of these goes through resolve_allowed (tested below); a new one must be too.
    assert text_params == {("/detect_batch", "folder"), ("/check_dataset", "folder"), ("/train_start", "folder")}


def _traversal_attempts(server, tmp_path: Path) -> List[str]:
    outside = tmp_path / "outside"
    outside.mkdir(exist_ok=True)
    write_page(outside / "secret.jpg")
    link = server.data_dir / "link_out"
    if not link.is_symlink():
        link.symlink_to(outside, target_is_directory=True)
    rel_up = "../" * (len(server.data_dir.parts) + 2) + str(outside).lstrip("/")
    return [
        str(server.data_dir / ".." / ".."),                      # '..' out of the root
        str(server.data_dir) + "/../" + server.output_dir.name,  # a sibling: the outputs folder
        "../" * 12 + "etc",                                      # relative, many levels up
        rel_up,                                                  # relative path to the outside folder
        "/etc", "/", "~", str(outside), str(ROOT),               # absolute paths elsewhere
        str(link), str(link) + "/.",                             # a symlink leaving the root
        str(server.data_dir) + "_evil",                          # a prefix of the root is not the root
    ]


def test_batch_folder_traversal_is_refused(client, server, tmp_path):
    for attempt in _traversal_attempts(server, tmp_path):
        with pytest.raises(AppError, match="Not allowed") as info:
            client.predict(None, attempt, api_name="/detect_batch")
        assert "secret" not in str(info.value)
    with pytest.raises(AppError):
        client.predict(None, str(server.data_dir) + "\x00/etc", api_name="/detect_batch")
    # Refused paths do not say whether they exist.
    with pytest.raises(AppError) as missing:
        client.predict(None, "/no/such/folder", api_name="/detect_batch")
    with pytest.raises(AppError) as existing:
        client.predict(None, "/usr", api_name="/detect_batch")
    assert "Not allowed" in str(missing.value) and "Not allowed" in str(existing.value)


def test_symlinked_files_inside_an_allowed_folder_are_skipped(client, server, tmp_path):
    outside = write_page(tmp_path / "outside_secret.jpg", seed=3)
    folder = server.data_dir / "mixed"
    write_page(folder / "inside.jpg")
    (folder / "leak.jpg").symlink_to(outside)
    summary = client.predict(None, str(folder), api_name="/detect_batch")[0]
    assert "| 1 | 1 | 0 |" in summary, summary            # only the real file inside the root
    jsons = list(server.output_dir.glob("batch_mixed_*/json/*.json"))
    assert [p.stem for p in jsons] == ["inside"]


def test_dataset_folder_traversal_is_refused(client, server, tmp_path):
    for attempt in _traversal_attempts(server, tmp_path)[:6]:
        status = client.predict(attempt, api_name="/check_dataset")
        assert "Not allowed" in status, (attempt, status)
        with pytest.raises(AppError, match="Not allowed"):
            client.predict(attempt, 2, 1, 0.007, False, api_name="/train_start")
    assert not list(server.workdir_root.glob("run_*"))    # nothing started


def test_server_still_answers_after_the_attacks(client, page):
    _alive(client, page)


# ------------------------------------------------------------------------------- auth
def test_auth_refuses_clients_without_the_login(auth_server):
    with pytest.raises(AuthenticationError):
        Client(auth_server.url, verbose=False)
    with pytest.raises(ValueError, match="Could not login"):
        Client(auth_server.url, auth=(USER, "wrong"), verbose=False)
    with pytest.raises(ValueError, match="Could not login"):
        Client(auth_server.url, auth=("admin", PASSWORD), verbose=False)
    for path in ["config", "gradio_api/info", f"gradio_api/file={ROOT / 'README.md'}"]:
        assert httpx.get(auth_server.url + path, timeout=30).status_code == 401, path
    r = httpx.post(auth_server.url + "gradio_api/upload", files={"files": ("a.jpg", b"x", "image/jpeg")}, timeout=30)
    assert r.status_code == 401
    r = httpx.post(auth_server.url + "gradio_api/call/detect", json={"data": [None]}, timeout=30)
    assert r.status_code == 401


def test_auth_serves_a_client_with_the_login(auth_server, page):
    client = Client(auth_server.url, auth=(USER, PASSWORD), verbose=False)
    _alive(client, page)
    assert "without --auth" not in auth_server.output()


# ------------------------------------------------------------------- start-up warning
def _serve_until_launch(monkeypatch, tmp_path: Path, argv: List[str]) -> int:
    """Run `serve` with the model, page and socket stubbed out: it stops where it would listen."""
    import app.web.service
    import app.web.webui
    from app.cli import build_parser

    monkeypatch.setattr(app.web.service, "DetectorService", lambda settings: SimpleNamespace(ready=True, problem=None))
    monkeypatch.setattr(app.web.webui, "build_ui", lambda ctx: None)

    def no_socket(ctx, demo):
        raise OSError("stubbed: not listening in this test")

    monkeypatch.setattr(app.web.webui, "launch", no_socket)
    args = build_parser(["serve"]).parse_args(
        ["serve", "--pid-file", str(tmp_path / "s.pid"), "--output-dir", str(tmp_path / "out"), *argv])
    return args.run(args)


@pytest.mark.parametrize("argv,warned", [
    (["--host", "0.0.0.0"], True),
    (["--host", "0.0.0.0", "--auth", "u:p"], False),
    (["--host", "127.0.0.1"], False),
])
def test_warning_when_listening_everywhere_without_auth(monkeypatch, tmp_path, caplog, argv, warned):
    monkeypatch.delenv("OCR_AUTH", raising=False)
    with caplog.at_level(logging.WARNING, logger="app.serve"):
        assert _serve_until_launch(monkeypatch, tmp_path, argv) == 1   # the stub refused to listen
    warnings = [r.getMessage() for r in caplog.records if "without --auth" in r.getMessage()]
    assert bool(warnings) == warned, warnings
    if warned:
        assert "0.0.0.0" in warnings[0] and "OCR_AUTH" in warnings[0]
    assert not (tmp_path / "s.pid").exists()
