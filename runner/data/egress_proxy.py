"""The recording egress proxy: every outbound attempt of the agent, one JSON line each.

Runs in its own container beside the agent's (standard library only: it is copied
into the default image's Python, never imported by the auditor). Three ways in:

* an explicit HTTP proxy (HTTP_PROXY / HTTPS_PROXY point here): CONNECT host:port
  for HTTPS, absolute-URI requests for plain HTTP;
* a DNS server that answers every name with this container's address, so code that
  ignores the proxy variables still lands here;
* catch-all listeners on ports 80 and 443 that read the Host header or the TLS SNI
  to learn which host the agent meant.

Each attempt is written to the log as {"t","host","port","allowed","bytes_out",
"bytes_in"} (plus "via" and "reason"), denied hosts are refused before any
upstream connection is made, and private addresses are refused unless named.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import os
import socket
import struct
import sys
import time

HEADER_LIMIT = 64 * 1024
CONNECT_TIMEOUT = 10.0


class Policy:
    def __init__(self, denied: list[str], private_ok: list[str]) -> None:
        self.denied = [d.strip().lower().strip(".") for d in denied if d.strip()]
        self.private_ok = {p.strip().lower() for p in private_ok if p.strip()}

    def denial(self, host: str) -> str | None:
        """Why `host` is refused by name, or None."""
        h = host.lower().strip(".")
        if "*" in self.denied and h not in self.private_ok:
            return "no egress under this network policy"
        for d in self.denied:
            if h == d or h.endswith("." + d):
                return f"denied host ({d})"
        return None

    async def denial_after_resolving(self, host: str, port: int) -> tuple[str | None, list]:
        """Resolve, then refuse private, loopback and link-local targets (the host machine)."""
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            return f"cannot resolve: {exc}", []
        if host.lower() in self.private_ok:
            return None, infos
        for info in infos:
            ip = ipaddress.ip_address(info[4][0])
            if ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_unspecified:
                return f"private address {ip}", []
        return None, infos


class Recorder:
    def __init__(self, path: str, t0: float) -> None:
        self.path = path
        self.t0 = t0


class Attempt:
    """One connection attempt; written once, when it ends."""

    def __init__(self, recorder: Recorder, host: str, port: int, via: str) -> None:
        self.recorder, self.host, self.port, self.via = recorder, host, port, via
        self.t = round(time.time() - recorder.t0, 3)
        self.bytes_out = 0
        self.bytes_in = 0

    def finish(self, allowed: bool, reason: str = "") -> None:
        rec = {
            "t": self.t, "host": self.host, "port": self.port, "allowed": allowed,
            "bytes_out": self.bytes_out, "bytes_in": self.bytes_in, "via": self.via,
        }
        if reason:
            rec["reason"] = reason
        with open(self.recorder.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(rec) + "\n")


async def read_head(reader: asyncio.StreamReader) -> bytes:
    """The request head up to the blank line (bounded)."""
    data = b""
    while b"\r\n\r\n" not in data and len(data) < HEADER_LIMIT:
        chunk = await reader.read(4096)
        if not chunk:
            break
        data += chunk
    return data


def split_host_port(text: str, default_port: int) -> tuple[str, int]:
    text = text.strip()
    if text.startswith("["):  # [v6]:port
        host, _, rest = text[1:].partition("]")
        port = rest.lstrip(":")
        return host, int(port) if port.isdigit() else default_port
    host, sep, port = text.rpartition(":")
    if sep and port.isdigit():
        return host, int(port)
    return text, default_port


def header_value(head: bytes, name: str) -> str | None:
    for line in head.split(b"\r\n")[1:]:
        key, sep, value = line.partition(b":")
        if sep and key.strip().lower() == name.lower().encode():
            return value.strip().decode("latin-1")
    return None


def sni_of(hello: bytes) -> str | None:
    """The server name of a TLS ClientHello, or None when there is none or it is malformed."""
    try:
        if len(hello) < 5 or hello[0] != 0x16:
            return None
        pos = 5 + 4 + 2 + 32  # record header, handshake header, version, random
        sid_len = hello[pos]
        pos += 1 + sid_len
        (cs_len,) = struct.unpack("!H", hello[pos:pos + 2])
        pos += 2 + cs_len
        comp_len = hello[pos]
        pos += 1 + comp_len
        (ext_total,) = struct.unpack("!H", hello[pos:pos + 2])
        pos += 2
        end = min(len(hello), pos + ext_total)
        while pos + 4 <= end:
            ext_type, ext_len = struct.unpack("!HH", hello[pos:pos + 4])
            pos += 4
            if ext_type == 0:  # server_name: list length, type, name length, name
                name_len = struct.unpack("!H", hello[pos + 3:pos + 5])[0]
                return hello[pos + 5:pos + 5 + name_len].decode("ascii", "replace")
            pos += ext_len
    except (IndexError, struct.error):
        return None
    return None


async def read_client_hello(reader: asyncio.StreamReader) -> bytes:
    data = b""
    while len(data) < 5:
        chunk = await reader.read(5 - len(data))
        if not chunk:
            return data
        data += chunk
    need = 5 + struct.unpack("!H", data[3:5])[0]
    while len(data) < min(need, HEADER_LIMIT):
        chunk = await reader.read(need - len(data))
        if not chunk:
            break
        data += chunk
    return data


async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter, count) -> None:
    try:
        while True:
            chunk = await src.read(65536)
            if not chunk:
                break
            count(len(chunk))
            dst.write(chunk)
            await dst.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        try:
            dst.close()
        except (ConnectionError, OSError):
            pass


class Proxy:
    def __init__(self, policy: Policy, recorder: Recorder) -> None:
        self.policy = policy
        self.recorder = recorder
        self.last_lookup: dict[str, str] = {}  # client address -> the last name it resolved through us

    def guessed_host(self, writer) -> str:
        """For a connection that names no host (not TLS, no SNI): the name its client last looked up."""
        peer = writer.get_extra_info("peername") or ("", 0)
        return self.last_lookup.get(peer[0], "unknown")

    async def relay(self, attempt: Attempt, client_r, client_w, first_bytes: bytes, reply: bytes | None) -> None:
        """Check the target, connect, then pipe both ways counting bytes; records the attempt."""
        reason = self.policy.denial(attempt.host)
        if reason is None and attempt.host == "unknown":
            reason = "no host name in the connection (not HTTP with a Host header, not TLS with SNI)"
        infos: list = []
        if reason is None:
            reason, infos = await self.policy.denial_after_resolving(attempt.host, attempt.port)
        if reason is not None:
            attempt.finish(False, reason)
            if reply is not None:
                await self.refuse(client_w, reason)
            client_w.close()
            return
        try:
            addr = infos[0][4]
            up_r, up_w = await asyncio.wait_for(asyncio.open_connection(addr[0], addr[1]), CONNECT_TIMEOUT)
        except (OSError, asyncio.TimeoutError) as exc:
            attempt.finish(True, f"upstream unreachable: {exc or 'timeout'}")
            if reply is not None:
                await self.refuse(client_w, "upstream unreachable", status=b"502 Bad Gateway")
            client_w.close()
            return
        if reply:
            client_w.write(reply)
        if first_bytes:
            attempt.bytes_out += len(first_bytes)
            up_w.write(first_bytes)

        def add_out(n: int) -> None:
            attempt.bytes_out += n

        def add_in(n: int) -> None:
            attempt.bytes_in += n

        await asyncio.gather(pipe(client_r, up_w, add_out), pipe(up_r, client_w, add_in))
        attempt.finish(True)

    async def refuse(self, writer, reason: str, status: bytes = b"403 Forbidden") -> None:
        body = f"refused by the sandbox's egress policy: {reason}\n".encode()
        writer.write(b"HTTP/1.1 " + status + b"\r\nContent-Type: text/plain\r\nConnection: close\r\n"
                     + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        try:
            await writer.drain()
        except (ConnectionError, OSError):
            pass

    async def explicit(self, reader, writer) -> None:
        """The HTTP proxy port: CONNECT or an absolute-URI request."""
        head = await read_head(reader)
        if not head:
            writer.close()
            return
        request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
        parts = request_line.split(" ")
        if len(parts) < 3:
            writer.close()
            return
        method, target, version = parts[0], parts[1], parts[2]
        if method.upper() == "CONNECT":
            host, port = split_host_port(target, 443)
            attempt = Attempt(self.recorder, host, port, "connect")
            rest = head.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in head else b""
            await self.relay(attempt, reader, writer, rest, b"HTTP/1.1 200 Connection established\r\n\r\n")
            return
        scheme, sep, rest = target.partition("://")
        if not sep:
            await self.refuse(writer, "not a proxy request")
            writer.close()
            return
        authority, slash, path = rest.partition("/")
        host, port = split_host_port(authority, 443 if scheme.lower() == "https" else 80)
        origin_form = f"{method} /{path if slash else ''} {version}".encode("latin-1")
        forwarded = origin_form + head[len(request_line):]
        await self.relay(Attempt(self.recorder, host, port, "http"), reader, writer, forwarded, b"")

    async def catch_http(self, reader, writer) -> None:
        """Port 80 of the DNS sinkhole: the Host header names the target."""
        head = await with_timeout(read_head(reader))
        host_header = header_value(head, "host") or self.guessed_host(writer)
        host, port = split_host_port(host_header, 80)
        await self.relay(Attempt(self.recorder, host, port, "dns-http"), reader, writer, head, b"")

    async def catch_tls(self, reader, writer) -> None:
        """Port 443 of the DNS sinkhole: the TLS SNI names the target."""
        hello = await with_timeout(read_client_hello(reader))
        host = sni_of(hello) or self.guessed_host(writer)
        await self.relay(Attempt(self.recorder, host, 443, "dns-tls"), reader, writer, hello, None)


async def with_timeout(read, seconds: float = 5.0) -> bytes:
    """What a client sent first, or nothing if it sends nothing we can use in time."""
    try:
        return await asyncio.wait_for(read, seconds)
    except (asyncio.TimeoutError, ConnectionError, OSError):
        return b""


class SinkholeDNS(asyncio.DatagramProtocol):
    """Answers every A query with our address; AAAA and others get an empty answer."""

    def __init__(self, answer_ip: str, log_path: str, t0: float, last_lookup: dict[str, str]) -> None:
        self.answer_ip = answer_ip
        self.last_lookup = last_lookup
        self.log_path, self.t0 = log_path, t0

    def answer_for(self, client_ip: str) -> bytes:
        """Our address as seen from the querier ("auto": the source address the kernel picks to reach it)."""
        if self.answer_ip != "auto":
            return socket.inet_aton(self.answer_ip)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect((client_ip, 9))
            return socket.inet_aton(probe.getsockname()[0])

    def connection_made(self, transport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr) -> None:
        try:
            name, qtype, qend = parse_question(data)
        except (IndexError, ValueError, struct.error):
            return  # not a query we can read: no answer, as a resolver would time out
        if qtype == 1:
            self.last_lookup[addr[0]] = name
        with open(self.log_path, "a", encoding="utf-8") as f:
            f.write(json.dumps({"t": round(time.time() - self.t0, 3), "name": name, "qtype": qtype}) + "\n")
        header = data[:2] + b"\x81\x80" + b"\x00\x01" + (b"\x00\x01" if qtype == 1 else b"\x00\x00") + b"\x00\x00\x00\x00"
        reply = header + data[12:qend]
        if qtype == 1:
            reply += b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x05\x00\x04" + self.answer_for(addr[0])
        self.transport.sendto(reply, addr)


def parse_question(data: bytes) -> tuple[str, int, int]:
    pos, labels = 12, []
    while data[pos] != 0:
        n = data[pos]
        if n & 0xC0:
            raise ValueError("compressed name in a question")
        labels.append(data[pos + 1:pos + 1 + n].decode("ascii", "replace"))
        pos += 1 + n
    pos += 1
    qtype = struct.unpack("!H", data[pos:pos + 2])[0]
    return ".".join(labels), qtype, pos + 4


async def serve(args) -> None:
    policy = Policy(read_lines(args.deny_file), args.private_ok.split(","))
    recorder = Recorder(args.log, args.t0)
    proxy = Proxy(policy, recorder)
    servers = [await asyncio.start_server(proxy.explicit, args.bind, args.port)]
    for port, handler in ((args.http_port, proxy.catch_http), (args.tls_port, proxy.catch_tls)):
        if not port:
            continue
        try:
            servers.append(await asyncio.start_server(handler, args.bind, port))
        except OSError as exc:  # without the port sysctl; the explicit proxy still works
            print(f"egress proxy: cannot listen on {port}: {exc}", file=sys.stderr)
    if args.answer_ip:
        loop = asyncio.get_running_loop()
        await loop.create_datagram_endpoint(
            lambda: SinkholeDNS(args.answer_ip, args.dns_log, args.t0, proxy.last_lookup),
            local_addr=(args.bind, args.dns_port))
    print("egress proxy ready", flush=True)
    await asyncio.gather(*(s.serve_forever() for s in servers))


def read_lines(path: str | None) -> list[str]:
    if not path or not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [ln.strip() for ln in f if ln.strip() and not ln.startswith("#")]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--log", required=True)
    ap.add_argument("--dns-log", default="/dev/null")
    ap.add_argument("--deny-file")
    ap.add_argument("--private-ok", default="", help="comma-separated hosts allowed on private addresses")
    ap.add_argument("--bind", default="0.0.0.0")
    ap.add_argument("--port", type=int, default=3128, help="the explicit HTTP proxy")
    ap.add_argument("--http-port", type=int, default=80, help="catch-all for plain HTTP (0: none)")
    ap.add_argument("--tls-port", type=int, default=443, help="catch-all for TLS (0: none)")
    ap.add_argument("--dns-port", type=int, default=53)
    ap.add_argument("--answer-ip", default="", help="the address the DNS sinkhole answers with, or auto")
    ap.add_argument("--t0", type=float, default=time.time())
    asyncio.run(serve(ap.parse_args()))


if __name__ == "__main__":
    main()
