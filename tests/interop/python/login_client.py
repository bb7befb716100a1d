#!/usr/bin/env python3
"""A minimal Perspective Broker login client (twisted.cred) on real Twisted, for the Rust interop tests.

    login_client.py [PORT] [USER] [PASSWORD] [--tls CA.pem [--client-cert CERT.pem KEY.pem]]

Connects to 127.0.0.1:PORT (default 8800), logs in with
PBClientFactory.login(UsernamePassword(USER, PASSWORD), mind) (defaults
alice, wonderland), where the mind is a pb.Referenceable answering
hello(x) -> f"hello, {x}", then calls on the perspective, printing one line
each on stdout:

    whoami()             logged in as alice
                         whoami -> 'alice'
    echo("hello")        echo -> 'hello'
    callMeBack("there")  callMeBack -> 'hello, there'

then disconnects and exits 0 (whoami must give USER, echo "hello", and
callMeBack "hello, there").  An unauthorized login (wrong password, unknown
user: a failure of type twisted.cred.error.UnauthorizedLogin) prints

    UnauthorizedLogin: <the failure's message>

(Twisted's message is empty, so the line is "UnauthorizedLogin: " with a
trailing space) and exits 1.  Any other failure, an unexpected answer, or no
result within 30 seconds exits 2, with the reason on stderr.

--tls CA.pem connects with TLS instead, Twisted's own (pyOpenSSL, from the
`twisted[tls]` extra): reactor.connectSSL to 127.0.0.1:PORT with
ssl.optionsForClientTLS("127.0.0.1", trustRoot=<the certificate(s) in
CA.pem>).  The server's certificate must chain to one of them, and its
subjectAltName must hold the IP address 127.0.0.1: Twisted sees that the
host name is an IP address, checks it as a service_identity IPAddress_ID,
which matches iPAddress SANs only (a DNS SAN `localhost`, or a commonName,
is not enough), and sends no SNI.  The Rust test certificates carry the
SANs DNS:localhost and IP:127.0.0.1.  A DNS SAN "127.0.0.1" (an IP address
written as a DNS name) makes service_identity raise CertificateError while
reading the SANs; Twisted 26.10's verify callback logs that (a traceback
on stderr, "while verifying certificate") and then accepts the
certificate, so once the handshake is done this client checks the
certificate again with service_identity's verify_certificate_ip_address
and fails the connection on such an error (`TLS error:
service_identity.exceptions.CertificateError: Invalid DNS pattern
b'127.0.0.1'.`).  --client-cert CERT.pem KEY.pem (after --tls CA.pem)
presents that client certificate (CERT.pem's first certificate, the rest
of the file sent as its chain) with KEY.pem's private key; without it,
none is sent.

A TLS failure (a server certificate that does not chain to CA.pem or does
not hold 127.0.0.1, a server that refuses the client's certificate or its
lack of one, a server that does not speak TLS) prints one line on stdout

    TLS error: <reason>

and exits 2.  <reason> is, for an OpenSSL error, its reason strings joined
with "; " (with the OpenSSL 3 of the cryptography wheels: `certificate
verify failed` for a server certificate that does not chain to CA.pem,
`tlsv13 alert certificate required` from a server that wants a client
certificate, `tlsv1 alert unknown ca` from one that does not trust it,
`wrong version number` from a plain TCP server), else `<type>: <message>`
(e.g. `service_identity.exceptions.VerificationError:
VerificationError(errors=[IPAddressMismatch(...)])` for a certificate
without the IP SAN).  The reason is looked for in the failure of the login
(unwrapping a PBConnectionLost to the Failure it carries) and then in the
reason the Broker's connectionLost was given: PBClientFactory fails a
login with the TCP transport's reason (ConnectionDone, ConnectionAborted)
when the handshake fails before PB's Banana negotiation is done.  A TLS
1.3 server checks the client's certificate after the client's side of the
handshake is done, so its alert arrives as the connection's reason too.
Certificates that cannot be loaded exit 1 with a message on stderr.  Self-test:

    target/interop-venv/bin/python tests/interop/python/login_server.py 0
    target/interop-venv/bin/python tests/interop/python/login_client.py <port>
    target/interop-venv/bin/python tests/interop/python/login_client.py <port> alice wrong
    target/interop-venv/bin/python tests/interop/python/login_server.py 0 --tls server.pem server-key.pem
    target/interop-venv/bin/python tests/interop/python/login_client.py <port> alice wonderland --tls ca.pem
"""

import sys

import peers  # this directory is sys.path[0] when run as a script

PROGRAM = "login_client.py"

peers.require_twisted(PROGRAM)

from peers import failure_text, outcome, say  # noqa: E402
from twisted.cred.credentials import UsernamePassword  # noqa: E402
from twisted.cred.error import UnauthorizedLogin  # noqa: E402
from twisted.internet import defer, reactor  # noqa: E402
from twisted.internet.interfaces import IHandshakeListener  # noqa: E402
from twisted.python import failure  # noqa: E402
from twisted.python.reflect import qual  # noqa: E402
from twisted.spread import pb  # noqa: E402
from zope.interface import implementer  # noqa: E402

# The host name the server's certificate is verified against: an IP address,
# so Twisted checks it against the certificate's iPAddress SANs.
TLS_HOST = "127.0.0.1"


def tls_options(ca_path, client_cert):
    """ssl.optionsForClientTLS(TLS_HOST, ...) trusting the certificates of
    CA_PATH; client_cert is None or (CERT.pem, KEY.pem)."""
    from twisted.internet import ssl

    roots = peers.load_certificates(ca_path)
    mine = None
    extra = {}
    if client_cert is not None:
        mine, chain = peers.load_private_certificate(*client_cert)
        if chain:
            extra["extraCertChain"] = chain
    return ssl.optionsForClientTLS(
        TLS_HOST,
        trustRoot=ssl.trustRootFromCertificates(roots),
        clientCertificate=mine,
        extraCertificateOptions=extra,
    )


def tls_error(f):
    """The `TLS error: ` reason of a Failure (a PBConnectionLost unwrapped to
    the Failure it carries), or None if it is not a TLS one."""
    from OpenSSL import SSL
    from service_identity import CertificateError, VerificationError

    while f.check(pb.PBConnectionLost) and f.value.args and isinstance(f.value.args[0], failure.Failure):
        f = f.value.args[0]
    if f.check(SSL.Error):
        reasons = [r[-1] for r in f.value.args[0] if isinstance(r, tuple) and r] if f.value.args else []
        if reasons and all(isinstance(r, str) for r in reasons):
            return "; ".join(reasons)
        return f"{qual(f.type)}: {f.value}"
    if f.check(VerificationError, CertificateError):
        return f"{qual(f.type)}: {f.value}"
    return None


# Why the connection was lost, as the Broker (the protocol inside the TLS
# layer) was told: a TLS failure is only there.  PBClientFactory's own
# errback gets the TCP transport's reason (ConnectionDone, ConnectionAborted)
# when the TLS handshake fails before PB's Banana negotiation is done.
connection = {"lost": None}


@implementer(IHandshakeListener)
class Broker(pb.Broker):
    def handshakeCompleted(self):
        """Checks the server's certificate against TLS_HOST again, as Twisted
        meant to: its verify callback logs an exception that service_identity
        raises while reading the certificate's SANs (a CertificateError, e.g.
        for a DNS SAN "127.0.0.1") and then accepts the certificate."""
        from service_identity import CertificateError, VerificationError
        from service_identity.cryptography import verify_certificate_ip_address

        cert = self.transport.getPeerCertificate()
        try:
            verify_certificate_ip_address(cert.to_cryptography(), TLS_HOST)
        except (CertificateError, VerificationError):
            self.transport.failVerification(failure.Failure())

    def connectionLost(self, reason):
        connection["lost"] = reason
        super().connectionLost(reason)


class Unexpected(Exception):
    """An answer that is not the expected one (exit status 2)."""


class Mind(pb.Referenceable):
    def remote_hello(self, x):
        return f"hello, {x}"


@defer.inlineCallbacks
def run(port, user, password, options):
    """0 on success; else the Failure to report (a CopiedFailure stays one:
    inlineCallbacks would turn it into a RemoteError if it were raised).
    With options (a client TLS connection creator), over TLS."""
    factory = pb.PBClientFactory()
    factory.protocol = Broker
    if options is None:
        reactor.connectTCP("127.0.0.1", port, factory, timeout=10)
    else:
        reactor.connectSSL("127.0.0.1", port, factory, options, timeout=10)
    try:
        creds = UsernamePassword(user.encode("utf-8"), password.encode("utf-8"))
        ok, perspective = yield outcome(factory.login(creds, Mind()))
        if not ok:
            return perspective
        ok, name = yield outcome(perspective.callRemote("whoami"))
        if not ok:
            return name
        say(f"logged in as {name}")
        say(f"whoami -> {name!r}")
        if name != user:
            raise Unexpected(f"whoami gave {name!r}, not {user!r}")
        for method, arg, want in (("echo", "hello", "hello"), ("callMeBack", "there", "hello, there")):
            ok, got = yield outcome(perspective.callRemote(method, arg))
            if not ok:
                return got
            say(f"{method} -> {got!r}")
            if got != want:
                raise Unexpected(f"{method}({arg!r}) gave {got!r}, not {want!r}")
        # Leave once the connection is closed, not while it closes.
        gone = defer.Deferred()
        perspective.notifyOnDisconnect(lambda _: gone.callback(None))
        factory.disconnect()
        yield gone
    finally:
        factory.disconnect()
    return 0


def parse_tls(args):
    """Removes `--tls CA [--client-cert CERT KEY]` from the end of args;
    None or (CA, None or (CERT, KEY))."""
    if "--client-cert" in args and "--tls" not in args:
        sys.exit(f"{PROGRAM}: --client-cert needs --tls CA.pem before it")
    if "--tls" not in args:
        return None
    i = args.index("--tls")
    rest = args[i + 1 :]
    del args[i:]
    if len(rest) == 1 and rest[0] != "--client-cert":
        return rest[0], None
    if len(rest) == 4 and rest[1] == "--client-cert":
        return rest[0], (rest[2], rest[3])
    sys.exit(
        f"{PROGRAM}: --tls takes one argument, CA.pem, optionally followed by "
        "--client-cert CERT.pem KEY.pem, and comes last"
    )


def main(argv):
    args = list(argv[1:])
    tls = parse_tls(args)
    options = peers.tls_options_or_exit(PROGRAM, tls_options, tls)
    if len(args) > 3:
        sys.exit(f"{PROGRAM}: expected at most PORT USER PASSWORD, got {args}")
    try:
        port = int(args[0]) if args else peers.DEFAULT_PORT
    except ValueError:
        sys.exit(f"{PROGRAM}: the port must be a number, not {args[0]!r}")
    user = args[1] if len(args) > 1 else "alice"
    password = args[2] if len(args) > 2 else "wonderland"
    status = {"code": 2}

    def finished(result):
        if isinstance(result, failure.Failure):
            failed(result)
        else:
            status["code"] = result

    def failed(f):
        reason = tls_error(f)
        if reason is None and connection["lost"] is not None:
            reason = tls_error(connection["lost"])
        if reason is not None:
            say(f"TLS error: {reason}")
        elif f.check(UnauthorizedLogin):
            say(f"UnauthorizedLogin: {f.value}")
            status["code"] = 1
        elif f.check(Unexpected):
            sys.stderr.write(f"{PROGRAM}: {f.value}\n")
        else:
            sys.stderr.write(f"{PROGRAM}: {failure_text(f)}\n")

    def give_up():
        sys.stderr.write(f"{PROGRAM}: gave up after {peers.TIME_LIMIT:.0f} s\n")
        status["code"] = 2

    peers.run_until_done(lambda: run(port, user, password, options), peers.TIME_LIMIT, give_up, finished, failed)
    return status["code"]


if __name__ == "__main__":
    sys.exit(main(sys.argv))
