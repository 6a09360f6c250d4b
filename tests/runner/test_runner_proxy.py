"""The recording egress proxy, run as a real process on loopback against a real upstream."""

from __future__ import annotations

import http.server
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time

import pytest

from runner_helpers import RUNNER_DATA, free_port, read_jsonl, wait_for_line


class Upstream(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        body = b"upstream says hello\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def upstream():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()


@pytest.fixture
def proxy(tmp_path):
    ports = {"proxy": free_port(), "http": free_port(), "tls": free_port(), "dns": free_port()}
    deny = tmp_path / "deny.txt"
    deny.write_text("# LLM APIs\napi.openai.com\nkaggle.com\n")
    log = tmp_path / "egress.jsonl"
    dns_log = tmp_path / "dns.jsonl"
    proc = subprocess.Popen(
        [sys.executable, str(RUNNER_DATA / "egress_proxy.py"), "--bind", "127.0.0.1", "--log", str(log),
         "--dns-log", str(dns_log), "--deny-file", str(deny), "--private-ok", "127.0.0.1,localhost",
         "--port", str(ports["proxy"]), "--http-port", str(ports["http"]), "--tls-port", str(ports["tls"]),
         "--dns-port", str(ports["dns"]), "--answer-ip", "auto", "--t0", str(time.time())],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for_line(proc, "egress proxy ready")
    yield ports, log, dns_log
    proc.kill()
    proc.wait()


def records(log, n: int, timeout: float = 5.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.exists() and len(read_jsonl(log)) >= n:
            return read_jsonl(log)
        time.sleep(0.05)
    return read_jsonl(log) if log.exists() else []


def exchange(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(data)
        chunks = []
        while True:
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, TimeoutError):
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)


def test_connect_to_a_denied_host_is_refused_and_recorded(proxy):
    ports, log, _ = proxy
    reply = exchange(ports["proxy"], b"CONNECT api.openai.com:443 HTTP/1.1\r\nHost: api.openai.com:443\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 403")
    (rec,) = records(log, 1)
    assert (rec["host"], rec["port"], rec["allowed"], rec["bytes_out"]) == ("api.openai.com", 443, False, 0)
    assert "denied host" in rec["reason"]


def test_subdomains_of_a_denied_host_are_refused(proxy):
    ports, log, _ = proxy
    exchange(ports["proxy"], b"GET http://www.kaggle.com/code/x HTTP/1.1\r\nHost: www.kaggle.com\r\n\r\n")
    (rec,) = records(log, 1)
    assert rec["host"] == "www.kaggle.com" and rec["allowed"] is False and rec["port"] == 80


def test_allowed_tunnel_carries_bytes_both_ways_and_counts_them(proxy, upstream):
    ports, log, _ = proxy
    with socket.create_connection(("127.0.0.1", ports["proxy"]), timeout=5) as s:
        s.sendall(f"CONNECT 127.0.0.1:{upstream} HTTP/1.1\r\n\r\n".encode())
        assert s.recv(100).startswith(b"HTTP/1.1 200")
        request = b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        s.sendall(request)
        body = b""
        while chunk := s.recv(4096):
            body += chunk
    assert body.endswith(b"upstream says hello\n")
    (rec,) = records(log, 1)
    assert rec["allowed"] is True and rec["port"] == upstream
    assert rec["bytes_out"] == len(request) and rec["bytes_in"] == len(body)


def test_plain_http_through_the_proxy_is_forwarded_in_origin_form(proxy, upstream):
    ports, log, _ = proxy
    reply = exchange(ports["proxy"], f"GET http://127.0.0.1:{upstream}/page HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     "Connection: close\r\n\r\n".encode())
    assert b"200 OK" in reply and reply.endswith(b"upstream says hello\n")
    assert records(log, 1)[0]["via"] == "http"


def test_private_addresses_not_named_are_refused(tmp_path, proxy):
    ports, log, _ = proxy
    # 10.255.255.1 is a private address; the proxy must refuse it without connecting
    reply = exchange(ports["proxy"], b"CONNECT 10.255.255.1:22 HTTP/1.1\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 403")
    assert "private address" in records(log, 1)[0]["reason"]


def test_tls_catch_all_reads_the_server_name(proxy):
    ports, log, _ = proxy
    ctx = ssl.create_default_context()
    with socket.create_connection(("127.0.0.1", ports["tls"]), timeout=5) as raw:
        with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
            ctx.wrap_socket(raw, server_hostname="api.openai.com")
    (rec,) = records(log, 1)
    assert (rec["host"], rec["port"], rec["allowed"], rec["via"]) == ("api.openai.com", 443, False, "dns-tls")


def dns_query(name: str, qtype: int = 1) -> bytes:
    q = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\x00"
    return b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00" + q + struct.pack("!HH", qtype, 1)


def test_dns_sinkhole_answers_with_its_own_address_and_names_later_connections(proxy):
    ports, log, dns_log = proxy
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(5)
        s.sendto(dns_query("api.anthropic.com"), ("127.0.0.1", ports["dns"]))
        answer, _ = s.recvfrom(512)
    assert answer[:2] == b"\x12\x34" and answer[-4:] == socket.inet_aton("127.0.0.1")
    assert read_jsonl(dns_log)[0]["name"] == "api.anthropic.com"
    # a connection that is neither HTTP nor TLS gets the name its client just looked up
    with socket.create_connection(("127.0.0.1", ports["tls"]), timeout=10) as s:
        s.sendall(b"\x00\x01hello")
        s.shutdown(socket.SHUT_WR)
        s.recv(10)
    (rec,) = records(log, 1, timeout=10)
    assert rec["host"] == "api.anthropic.com" and rec["allowed"] is False
