"""TLS below 1.2 is refused by our session; TLS 1.2+ with a trusted certificate works."""

from __future__ import annotations

import http.server
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from cdcbridge.clock import MockedClock
from streams.platform.http import build_session, tls_context

pytestmark = [
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore:ssl.TLSVersion:DeprecationWarning"),
]


class _Ok(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: object) -> None:
        return None


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def _serve(cert: tuple[Path, Path], maximum: ssl.TLSVersion) -> Iterator[str]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1
    context.maximum_version = maximum
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    context.load_cert_chain(str(cert[0]), str(cert[1]))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def tls11_server(certificate: tuple[Path, Path]) -> Iterator[str]:
    yield from _serve(certificate, ssl.TLSVersion.TLSv1_1)


@pytest.fixture
def tls12_server(certificate: tuple[Path, Path]) -> Iterator[str]:
    yield from _serve(certificate, ssl.TLSVersion.TLSv1_2)


def test_tls_1_1_only_server_is_refused(tls11_server: str, certificate: tuple[Path, Path]) -> None:
    clock = MockedClock()  # the transport retries handshake failures: don't really wait
    session = build_session(clock=clock, context=tls_context(cafile=str(certificate[0])))
    with pytest.raises(requests.exceptions.SSLError, match=r"(?i)version|protocol"):
        session.get(tls11_server, timeout=5)


def test_tls_1_2_server_with_trusted_certificate_is_accepted(
    tls12_server: str, certificate: tuple[Path, Path]
) -> None:
    session = build_session(context=tls_context(cafile=str(certificate[0])))
    assert session.get(tls12_server, timeout=5).text == "ok"


def test_untrusted_certificate_is_refused(tls12_server: str) -> None:
    with pytest.raises(requests.exceptions.SSLError, match="CERTIFICATE_VERIFY_FAILED"):
        build_session(clock=MockedClock()).get(tls12_server, timeout=5)
