#!/usr/bin/env python3
"""Checks the Python peers against Twisted itself; exits non-zero on a failure.

    target/interop-venv/bin/python tests/interop/python/selfcheck.py

jelly_peer.py: every `kind: value` vector of tests/vectors/twisted-vectors.json
goes to the peer twice, as Banana bytes ({"banana_pb": ...}) and as its typed
value ({"typed": ...}); the answer's value and bytes must be the vector's,
except where Twisted's permissive unjelly gives another object than the one
the vector was made from (EXPECTED_DIFFERENT_BYTES, EXPECTED_ERROR below).  A
few more requests pin down the peer's error answers and the values that do
not survive a trip through Twisted unchanged.

login_client.py against login_server.py, and cred_client.py against
cred_server.py (each server on a free port, stdin a pipe): the clients' exact
output and exit status, the servers' `login`/`logout`/`stopped observing`
lines, and that each server exits 0 with nothing more to say once its stdin
is closed.  fault_client.py against cred_server.py: it says `ready`, and
once it is killed the server stops observing for it and logs it out.
dialect_client.py against echo_server.py: Twisted's offer, its choice of
pb, and four echoes.

The same login over TLS (login_server.py --tls, login_client.py --tls), with
certificates made for the run by make_certs() in a temporary directory: a
CA, a server certificate for the SANs DNS:localhost and IP:127.0.0.1 and a
client certificate both signed by it, and an unrelated CA with a client
certificate of its own.  Checked: the login with the CA as trust root; with
the unrelated CA the client says `TLS error: certificate verify failed`
and exits 2; a server with --client-ca accepts the client certificate
(`client certificate interop-client` before `login alice`) and refuses a
client without one or with the unrelated CA's (exit 2, a `TLS error:`
line); a server certificate naming only DNS:localhost, or holding
"127.0.0.1" as a DNS SAN instead of an IP SAN, does not do for 127.0.0.1.
"""

import datetime
import ipaddress

import json
import queue
import re
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

HERE = Path(__file__).resolve().parent
PEER = HERE / "jelly_peer.py"
LINE_LIMIT = 30.0  # seconds to wait for a server's line: only turns a hang into a failure
CLIENT_LIMIT = 90.0  # seconds for a client run, likewise
VECTORS = HERE.parent.parent / "vectors" / "twisted-vectors.json"

sys.path.insert(0, str(HERE))
from typed import banana_encode  # noqa: E402

# The value comes back, but Twisted jellies the unjellied object differently.
EXPECTED_DIFFERENT_BYTES = {
    "plain_instance_via_pb": (
        "unjelly turns ['unpersistable', reason] into a jelly.Unpersistable instance, "
        "which jelly.jelly() sends as an ordinary instance of "
        "twisted.spread.jelly.Unpersistable with a {'reason': ...} state"
    ),
}
# The vector has no `value`: what unjelly gives has no typed value form.
EXPECTED_ERROR = {
    "class_ref_jelly_only": "unjelly gives the class __main__.PlainThing itself",
}


class Peer:
    def __init__(self):
        self.proc = subprocess.Popen(
            [sys.executable, str(PEER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )

    def ask(self, request):
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the peer closed its output")
        return json.loads(line)

    def close(self):
        self.proc.stdin.close()
        rest = self.proc.stdout.read()
        code = self.proc.wait(timeout=30)
        return code, rest


class Checker:
    def __init__(self):
        self.failures = []
        self.count = 0

    def check(self, ok, what):
        self.count += 1
        if not ok:
            self.failures.append(what)
            sys.stderr.write(f"FAIL: {what}\n")


def sexp_hex(sexp):
    return banana_encode(sexp, b"pb").hex()


def vector_checks(peer, c):
    doc = json.loads(VECTORS.read_text(encoding="utf-8"))
    vectors = [v for v in doc["vectors"] if v["kind"] == "value"]
    c.check(len(vectors) > 0, "no value vectors found")
    for v in vectors:
        name = v["name"]
        got = peer.ask({"banana_pb": v["banana_pb"]})
        if name in EXPECTED_ERROR:
            c.check("error" in got and "value" not in v, f"{name}: expected an error, got {got}")
            continue
        c.check("error" not in got, f"{name}: peer error {got.get('error')}")
        if "error" in got:
            continue
        c.check(got["value"] == v["value"], f"{name}: value {got['value']} != {v['value']}")
        if name in EXPECTED_DIFFERENT_BYTES:
            c.check(got["banana_pb"] != v["banana_pb"], f"{name}: bytes expected to differ")
            again = peer.ask({"banana_pb": got["banana_pb"]})
            c.check(again.get("value") == v["value"], f"{name}: re-jellied bytes give {again}")
        else:
            c.check(got["banana_pb"] == v["banana_pb"], f"{name}: bytes {got['banana_pb']} != {v['banana_pb']}")

        typed = peer.ask({"typed": v["value"]})
        c.check("error" not in typed, f"{name}: typed request: peer error {typed.get('error')}")
        if "error" in typed:
            continue
        c.check(typed["value"] == v["value"], f"{name}: typed request: value {typed['value']}")
        if name in EXPECTED_DIFFERENT_BYTES:
            c.check(typed["banana_pb"] == got["banana_pb"], f"{name}: typed request: bytes {typed['banana_pb']}")
        else:
            c.check(typed["banana_pb"] == v["banana_pb"], f"{name}: typed request: bytes {typed['banana_pb']}")


def I(n):  # noqa: E743
    return {"int": str(n)}


def S(s):
    return {"str": s}


def thing(state):
    return {"instance": "interop_classes.Thing", "state": state}


def behaviour_checks(peer, c):
    def expect_value(request, value, what):
        got = peer.ask(request)
        c.check(got.get("value") == value, f"{what}: got {got}, expected value {value}")
        return got

    def expect_error(request, prefix, what):
        got = peer.ask(request)
        c.check(got.get("error", "").startswith(prefix), f"{what}: got {got}, expected error {prefix}")

    # The examples of the brief.
    expect_value({"banana_pb": "01800187"}, None, "None")
    expect_error({"banana_pb": "zz"}, "builtins.ValueError: ", "bad hex")
    shared = {"list": [{"id": 1, "list": []}, {"ref": 1}]}
    got = expect_value({"typed": shared}, shared, "shared list")
    want = sexp_hex([b"list", [b"reference", 1, [b"list"]], [b"dereference", 1]])
    c.check(got.get("banana_pb") == want, f"shared list bytes {got.get('banana_pb')} != {want}")

    # Errors: bad requests, bad Banana, unknown classes.
    expect_error({"nonsense": 1}, "builtins.ValueError: ", "unknown request")
    expect_error({"banana_pb": "0180018701800187"}, "typed.TypedError: expected one expression", "two expressions")
    expect_error({"banana_pb": "0280"}, "typed.TypedError: incomplete banana data", "truncated")
    expect_error({"banana_pb": sexp_hex([b"nosuchmodule.X", [b"dictionary"]])}, "builtins.ModuleNotFoundError", "unknown module")
    expect_error({"typed": {"ref": 1}}, "typed.TypedError: ref to unknown id", "unknown ref")
    expect_error({"typed": {"id": 1, "tuple": [{"tuple": [{"ref": 1}]}]}}, "typed.TypedError: a cycle", "tuple cycle")
    expect_error({"typed": {"int": str(2**448)}}, "twisted.spread.banana.BananaError", "int too large")
    # The peer still answers after errors (and after a non-JSON line).
    peer.proc.stdin.write("not json\n")
    peer.proc.stdin.flush()
    line = json.loads(peer.proc.stdout.readline())
    c.check(line.get("error", "").startswith("json.decoder.JSONDecodeError"), f"non-JSON line: {line}")

    # interop_classes.Thing, both ways.
    t = thing({"dict": [[S("a"), I(1)], [S("b"), {"list": []}]]})
    wire = sexp_hex([b"interop_classes.Thing", [b"dictionary", [[b"unicode", b"a"], 1], [[b"unicode", b"b"], [b"list"]]]])
    got = expect_value({"banana_pb": wire}, t, "Thing")
    c.check(got.get("banana_pb") == wire, f"Thing bytes {got.get('banana_pb')} != {wire}")
    got = expect_value({"typed": t}, t, "typed Thing")
    c.check(got.get("banana_pb") == wire, f"typed Thing bytes {got.get('banana_pb')} != {wire}")
    cyclic = {"id": 1, "instance": "interop_classes.Thing", "state": {"dict": [[S("me"), {"ref": 1}]]}}
    got = expect_value({"typed": cyclic}, cyclic, "Thing in a cycle")
    expect_value({"banana_pb": got.get("banana_pb", "")}, cyclic, "Thing in a cycle, from bytes")

    # What does not survive a Twisted round trip unchanged.
    # - Python 3.11+ jellies an instance with an empty __dict__ with state None.
    expect_value({"typed": thing({"dict": []})}, thing(None), "empty Thing")
    # - A state that is not a dict is dropped by unjelly (the class has no __setstate__).
    expect_value({"banana_pb": sexp_hex([b"interop_classes.Thing", [b"list", 1]])}, thing(None), "Thing with list state")
    # - The empty tuple is one object in CPython, so two of them are shared.
    expect_value(
        {"typed": {"list": [{"tuple": []}, {"tuple": []}]}},
        {"list": [{"id": 1, "tuple": []}, {"ref": 1}]},
        "two empty tuples",
    )
    two = sexp_hex([b"list", [b"tuple"], [b"tuple"]])
    got = expect_value({"banana_pb": two}, {"list": [{"id": 1, "tuple": []}, {"ref": 1}]}, "two empty tuples on the wire")
    c.check(got.get("banana_pb") != two, "two empty tuples are re-jellied with a reference")
    # - Sets come back in Python's iteration order.
    expect_value({"typed": {"set": [I(3), I(1), I(2)]}}, {"set": [I(1), I(2), I(3)]}, "set order")
    # - Equal keys (1 == True == 1.0) are one dict key; the first key and the last value stay.
    expect_value(
        {"typed": {"dict": [[I(1), S("a")], [True, S("b")]]}},
        {"dict": [[I(1), S("b")]]},
        "equal dict keys",
    )
    # - Decimal -0 is sent as coefficient 0 and comes back positive.
    got = expect_value({"typed": {"decimal": ["-0", 0]}}, {"decimal": ["-0", 0]}, "Decimal -0")
    expect_value({"banana_pb": got.get("banana_pb", "")}, {"decimal": ["0", 0]}, "Decimal -0 from bytes")
    # - NaN payloads and signs survive.
    nan = {"float": "fff8000000000001"}
    expect_value({"typed": nan}, nan, "NaN payload")
    # - A tuple reached again through a list in itself is built, as unjelly builds it.
    loop = {"id": 1, "tuple": [{"list": [{"ref": 1}]}]}
    got = expect_value({"typed": loop}, loop, "tuple cycle through a list")
    expect_value({"banana_pb": got.get("banana_pb", "")}, loop, "tuple cycle through a list, from bytes")
    # - An unpersistable comes back as itself, but is jellied as an instance.
    u = {"unpersistable": "why"}
    got = expect_value({"typed": u}, u, "unpersistable")
    want = sexp_hex([b"twisted.spread.jelly.Unpersistable", [b"dictionary", [[b"unicode", b"reason"], [b"unicode", b"Unpersistable data: b'why'"]]]])
    c.check(got.get("banana_pb") == want, f"unpersistable bytes {got.get('banana_pb')} != {want}")


class Server:
    """A server program (login_server.py, cred_server.py) on a free port,
    given `args` after the port, its stdin a pipe (closing it stops the
    server), its stdout read line by line, its stderr (Twisted's log) kept
    for when something fails."""

    def __init__(self, script, *args):
        self.script = script
        self.stderr = tempfile.TemporaryFile(mode="w+", encoding="utf-8")
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / script), "0", *map(str, args)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            text=True,
            encoding="utf-8",
        )
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        first = self.next_line()
        m = re.fullmatch(r"listening on 127\.0\.0\.1:(\d+)", first or "")
        if m is None:
            self.kill()
            raise RuntimeError(f"{script}: expected a `listening on` line, got {first!r}\n{self.log()}")
        self.port = int(m.group(1))

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)  # EOF

    def next_line(self):
        """The next stdout line; None at EOF or after LINE_LIMIT seconds."""
        try:
            return self.lines.get(timeout=LINE_LIMIT)
        except queue.Empty:
            return None

    def take(self, n):
        """The next n stdout lines (fewer at EOF or on a time-out)."""
        got = []
        while len(got) < n:
            line = self.next_line()
            if line is None:
                break
            got.append(line)
        return got

    def close(self):
        """Closes stdin; (exit status, the stdout lines that came after)."""
        self.proc.stdin.close()
        try:
            code = self.proc.wait(timeout=LINE_LIMIT)
        except subprocess.TimeoutExpired:
            self.kill()
            return None, []
        rest = []
        while (line := self.next_line()) is not None:
            rest.append(line)
        return code, rest

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def log(self):
        self.stderr.seek(0)
        return self.stderr.read()


def run_client(script, *args):
    """(exit status, stdout, stderr) of a client run; status None if it hung."""
    try:
        done = subprocess.run(
            [sys.executable, str(HERE / script), *map(str, args)],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=CLIENT_LIMIT,
        )
    except subprocess.TimeoutExpired as e:
        return None, e.stdout or "", e.stderr or ""
    return done.returncode, done.stdout, done.stderr


def server_checks(c, script, body, *args):
    """Runs body(server, c) against a fresh `script ARGS`, then checks that it stops cleanly."""
    try:
        server = Server(script, *args)
    except Exception as e:
        c.check(False, f"{script} {' '.join(map(str, args))}: could not start: {e}")
        return
    failures = len(c.failures)
    try:
        body(server, c)
        code, rest = server.close()
        c.check(code == 0, f"{script}: exit status {code} after stdin closed")
        c.check(rest == [], f"{script}: unexpected lines at the end: {rest}")
    finally:
        server.kill()
        if len(c.failures) > failures:
            sys.stderr.write(f"--- {script} stderr:\n{server.log()}--- end of {script} stderr\n")


LOGIN_LINES = [
    "logged in as alice",
    "whoami -> 'alice'",
    "echo -> 'hello'",
    "callMeBack -> 'hello, there'",
]
# Twisted's UnauthorizedLogin has an empty message.
UNAUTHORIZED_LINE = "UnauthorizedLogin: "


def login_checks(server, c):
    code, out, err = run_client("login_client.py", server.port)
    c.check(code == 0, f"login_client.py: exit status {code}; stderr {err!r}")
    c.check(out.splitlines() == LOGIN_LINES, f"login_client.py: output {out!r}")
    lines = server.take(2)
    c.check(lines == ["login alice", "logout alice"], f"login_server.py: lines {lines}")

    for user, password in (("alice", "wrong"), ("nobody", "wonderland")):
        code, out, err = run_client("login_client.py", server.port, user, password)
        c.check(code == 1, f"login_client.py {user} {password}: exit status {code}; stderr {err!r}")
        c.check(out == UNAUTHORIZED_LINE + "\n", f"login_client.py {user} {password}: output {out!r}")

    # Certificates that cannot be read: exit 1, a message, nothing on stdout.
    code, out, err = run_client("login_client.py", server.port, "alice", "wonderland", "--tls", "no-such-ca.pem")
    c.check(code == 1 and out == "" and "no-such-ca.pem" in err, f"login_client.py --tls (no file): exit status {code}, output {out!r}")
    code, out, err = run_client("login_server.py", "0", "--tls", "no-such-cert.pem", "no-such-key.pem")
    c.check(code == 1 and out == "" and "no-such-cert.pem" in err, f"login_server.py --tls (no file): exit status {code}, output {out!r}")


# ---------------------------------------------------------------------------
# TLS.


def make_certs(directory):
    """Writes the run's certificates (PEM) into `directory`; {name: path}.

    ca, other-ca         self-signed CAs ("interop CA", "other CA")
    server, server-key   "interop server", SANs DNS:localhost and IP:127.0.0.1, signed by ca
    client, client-key   "interop-client", signed by ca
    stranger, stranger-key   "stranger", a client certificate signed by other-ca
    localhost, localhost-key "localhost only", SAN DNS:localhost only, signed by ca
    dns-ip, dns-ip-key   "dns ip", SAN DNS:127.0.0.1 (not an IP SAN), signed by ca

    Keys are ECDSA P-256 (PKCS#8), certificates valid from an hour ago for a day.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    paths = {}

    def write(name, data):
        path = Path(directory) / f"{name}.pem"
        path.write_bytes(data)
        paths[name] = path

    def make(name, cn, issuer=None, ca=False, sans=(), usage=None):
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
        issuer_cert, issuer_key = issuer if issuer else (None, key)
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer_cert.subject if issuer_cert else subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
        )
        if ca:
            usages = dict.fromkeys(
                ("content_commitment", "key_encipherment", "data_encipherment", "key_agreement", "encipher_only", "decipher_only"),
                False,
            )
            builder = builder.add_extension(
                x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, **usages), critical=True
            )
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName(list(sans)), critical=False)
        if usage is not None:
            builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        cert = builder.sign(issuer_key, hashes.SHA256())
        write(name, cert.public_bytes(serialization.Encoding.PEM))
        if not ca:
            pkcs8 = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
            write(f"{name}-key", pkcs8)
        return cert, key

    ca = make("ca", "interop CA", ca=True)
    other = make("other-ca", "other CA", ca=True)
    localhost = x509.DNSName("localhost")
    loopback = x509.IPAddress(ipaddress.ip_address("127.0.0.1"))
    server, client = ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH
    make("server", "interop server", ca, sans=(localhost, loopback), usage=server)
    make("client", "interop-client", ca, usage=client)
    make("stranger", "stranger", other, usage=client)
    make("localhost", "localhost only", ca, sans=(localhost,), usage=server)
    make("dns-ip", "dns ip", ca, sans=(x509.DNSName("127.0.0.1"),), usage=server)
    return paths


def tls_error_line(c, what, code, out, err, reason):
    """Checks a client that failed its TLS handshake: exit 2, one line on stdout,
    `TLS error: ` and text that contains `reason` (OpenSSL's reason strings
    depend on its version: with the OpenSSL 3 of the cryptography wheels they
    are `certificate verify failed`, `tlsv13 alert certificate required`,
    `tlsv1 alert unknown ca`)."""
    c.check(code == 2, f"{what}: exit status {code}; stderr {err!r}")
    lines = out.splitlines()
    ok = len(lines) == 1 and lines[0].startswith("TLS error: ") and reason in lines[0]
    c.check(ok, f"{what}: output {out!r}, expected one `TLS error: ...{reason}...` line")


def tls_checks(c, certs):
    """login_client.py --tls against login_server.py --tls, in each mode."""
    cert, key, ca, other = certs["server"], certs["server-key"], certs["ca"], certs["other-ca"]

    def plain_tls(server, c):
        code, out, err = run_client("login_client.py", server.port, "alice", "wonderland", "--tls", ca)
        c.check(code == 0, f"login_client.py --tls: exit status {code}; stderr {err!r}")
        c.check(out.splitlines() == LOGIN_LINES, f"login_client.py --tls: output {out!r}")
        lines = server.take(2)
        c.check(lines == ["login alice", "logout alice"], f"login_server.py --tls: lines {lines}")
        code, out, err = run_client("login_client.py", server.port, "alice", "wrong", "--tls", ca)
        c.check(code == 1 and out == UNAUTHORIZED_LINE + "\n", f"login_client.py --tls alice wrong: {code}, {out!r}")
        code, out, err = run_client("login_client.py", server.port, "alice", "wonderland", "--tls", other)
        tls_error_line(c, "login_client.py --tls other-ca.pem", code, out, err, "certificate verify failed")
        # A client certificate the server did not ask for is not sent; all is well.
        code, out, err = run_client(
            "login_client.py", server.port, "alice", "wonderland", "--tls", ca, "--client-cert", certs["client"], certs["client-key"]
        )
        c.check(code == 0 and out.splitlines() == LOGIN_LINES, f"login_client.py --client-cert, not asked for: {code}, {out!r}")
        lines = server.take(2)
        c.check(lines == ["login alice", "logout alice"], f"login_server.py --tls: lines {lines}")

    def client_ca(server, c):
        code, out, err = run_client(
            "login_client.py", server.port, "alice", "wonderland", "--tls", ca, "--client-cert", certs["client"], certs["client-key"]
        )
        c.check(code == 0, f"login_client.py --client-cert: exit status {code}; stderr {err!r}")
        c.check(out.splitlines() == LOGIN_LINES, f"login_client.py --client-cert: output {out!r}")
        lines = server.take(3)
        want = ["client certificate interop-client", "login alice", "logout alice"]
        c.check(lines == want, f"login_server.py --client-ca: lines {lines}")
        # TLS 1.3: the server's verdict on the client's certificate comes as an alert after the client's handshake.
        code, out, err = run_client("login_client.py", server.port, "alice", "wonderland", "--tls", ca)
        tls_error_line(c, "login_client.py without --client-cert", code, out, err, "alert certificate required")
        code, out, err = run_client(
            "login_client.py", server.port, "alice", "wonderland", "--tls", ca, "--client-cert", certs["stranger"], certs["stranger-key"]
        )
        tls_error_line(c, "login_client.py --client-cert stranger.pem", code, out, err, "alert unknown ca")

    def wrong_name(reason):
        def body(server, c):
            code, out, err = run_client("login_client.py", server.port, "alice", "wonderland", "--tls", ca)
            tls_error_line(c, f"login_client.py --tls, {reason}", code, out, err, reason)

        return body

    server_checks(c, "login_server.py", plain_tls, "--tls", cert, key)
    server_checks(c, "login_server.py", client_ca, "--tls", cert, key, "--client-ca", ca)
    # Twisted checks 127.0.0.1 against IP SANs only.
    server_checks(c, "login_server.py", wrong_name("IPAddressMismatch"), "--tls", certs["localhost"], certs["localhost-key"])
    # A DNS SAN "127.0.0.1" makes service_identity raise CertificateError, which
    # Twisted's verify callback swallows (it accepts); login_client.py refuses.
    server_checks(c, "login_server.py", wrong_name("Invalid DNS pattern"), "--tls", certs["dns-ip"], certs["dns-ip-key"])


CRED_CHECKS = [
    "login",
    "echo",
    "callMeBack",
    "fail",
    "view",
    "board",
    "secondBoard",
    "post",
    "wrongPassword",
    "unknownUser",
    "anonymous",
    "disconnect",
]
CRED_SERVER_LINES = [
    "login alice",
    "login bob",
    "login anonymous",
    "stopped observing alice",
    "stopped observing bob",
    "logout alice",
    "logout bob",
    "logout anonymous",
]


def cred_checks(server, c):
    code, out, err = run_client("cred_client.py", server.port)
    want = [f"ok {name}" for name in CRED_CHECKS] + [f"{len(CRED_CHECKS)} passed, 0 failed"]
    c.check(code == 0, f"cred_client.py: exit status {code}; stderr {err!r}")
    c.check(out.splitlines() == want, f"cred_client.py: output {out!r}")
    # The logins come in order; the three connections close in any order, each
    # one's `stopped observing` before its `logout`.
    lines = server.take(len(CRED_SERVER_LINES))
    c.check(lines[:3] == CRED_SERVER_LINES[:3], f"cred_server.py: login lines {lines[:3]}")
    c.check(sorted(lines) == sorted(CRED_SERVER_LINES), f"cred_server.py: lines {lines}")
    for who in ("alice", "bob"):
        stopped, logout = f"stopped observing {who}", f"logout {who}"
        if stopped in lines and logout in lines:
            c.check(lines.index(stopped) < lines.index(logout), f"cred_server.py: {logout!r} before {stopped!r}")


def fault_checks(server, c):
    """fault_client.py says `ready` once the server waits on its mind; killed
    there, the server stops observing for it and logs it out."""
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "fault_client.py"), str(server.port)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        encoding="utf-8",
    )
    lines = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line.rstrip("\n")) for line in proc.stdout], daemon=True).start()
    try:
        first = lines.get(timeout=LINE_LIMIT)
    except queue.Empty:
        first = None
    c.check(first == "ready", f"fault_client.py: first line {first!r}")
    proc.kill()
    proc.wait()
    got = server.take(3)
    want = ["login alice", "stopped observing alice", "logout alice"]
    c.check(got == want, f"cred_server.py after fault_client.py was killed: {got}")


def dialect_checks(c):
    """dialect_client.py against Twisted's own echo_server.py: Twisted's
    offer, the choice of pb, and the echoes (the Rust tests run the same
    client against a spread server, whose offer starts with spread-msgpack)."""
    try:
        server = Server("echo_server.py")
    except Exception as e:
        c.check(False, f"echo_server.py: could not start: {e}")
        return
    try:
        code, out, err = run_client("dialect_client.py", server.port)
        c.check(code == 0, f"dialect_client.py: exit status {code}; stderr {err!r}")
        want = ["offer [b'pb', b'none']", "chosen b'pb'", "echo ok 4"]
        c.check(out.splitlines() == want, f"dialect_client.py: output {out!r}")
    finally:
        server.kill()


def main():
    peer = Peer()
    c = Checker()
    try:
        vector_checks(peer, c)
        behaviour_checks(peer, c)
    finally:
        code, rest = peer.close()
    c.check(code == 0, f"peer exit status {code}")
    c.check(rest == "", f"peer wrote more than answers: {rest!r}")
    server_checks(c, "login_server.py", login_checks)
    with tempfile.TemporaryDirectory(prefix="selfcheck-tls-") as directory:
        tls_checks(c, make_certs(directory))
    server_checks(c, "cred_server.py", cred_checks)
    server_checks(c, "cred_server.py", fault_checks)
    dialect_checks(c)
    if c.failures:
        sys.stderr.write(f"selfcheck: {len(c.failures)} of {c.count} checks failed\n")
        sys.exit(1)
    print(f"selfcheck: all {c.count} checks passed")


if __name__ == "__main__":
    main()
