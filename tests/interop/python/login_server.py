#!/usr/bin/env python3
"""A minimal Perspective Broker login server (twisted.cred) on real Twisted, for the Rust interop tests.

    login_server.py [PORT] [--tls CERT.pem KEY.pem [--client-ca CA.pem]]

Listens on 127.0.0.1:PORT (default 8800; 0 picks a free port) with a
PBServerFactory for a Portal whose only checker is
InMemoryUsernamePasswordDatabaseDontUse(alice=b"wonderland"), and prints
`listening on 127.0.0.1:<real port>` on stdout once connections are accepted.
A login goes through PB's challenge/response (root.login(username) ->
[challenge, challenger]; challenger.respond(md5(md5(password) + challenge),
mind) -> the perspective).  Alice's perspective (a pb.Avatar) answers:

    whoami()        -> "alice" (str)
    echo(x)         -> x
    callMeBack(x)   -> whatever the mind given at login answers to
                       mind.callRemote("hello", x); None if no mind was given

Lines on stdout (each flushed), besides the first:

    login alice     the realm made her avatar (after a successful check)
    logout alice    her logout callable ran (the connection was dropped)

A wrong password or an unknown user fails the `respond` call with
twisted.cred.error.UnauthorizedLogin (an empty message); Twisted's log,
where PB logs that failure, goes to stderr.

When stdin is a pipe the server exits 0 as soon as it is closed (at EOF);
otherwise (a terminal, /dev/null) only a signal stops it.  Either way it
gives up and exits 1 after 120 seconds.

--tls CERT.pem KEY.pem serves the same portal over TLS, with Twisted's own
TLS (pyOpenSSL, from the `twisted[tls]` extra): reactor.listenSSL on
127.0.0.1:PORT with ssl.CertificateOptions for the certificate and key.
CERT.pem holds the server's certificate first, then optionally the rest of
its chain (intermediates, sent after it; not the root); KEY.pem its private
key (any PEM form pyOpenSSL reads: PKCS#8, PKCS#1, SEC1).  TLS 1.2 and 1.3
are accepted (Twisted's defaults).  The lines on stdout are the same, the
first still `listening on 127.0.0.1:<real port>`.

--client-ca CA.pem (after --tls CERT KEY) makes the server require a client
certificate that verifies against the certificate(s) in CA.pem, as
Twisted's PrivateCertificate.options(ca) does: a trustRoot, so OpenSSL asks
for one with VERIFY_PEER | VERIFY_FAIL_IF_NO_PEER_CERT; no name in it is
checked.  A client without one, or with one that does not verify, fails the
handshake: no line on stdout, and on stderr

    login_server.py: TLS handshake failed: <type>: <message>

(e.g. `OpenSSL.SSL.Error: [('SSL routines', '', 'peer did not return a
certificate')]`), as for any TLS connection lost before its handshake was
done, whatever the mode: Twisted itself does not log those.  Once a
handshake with a verified client certificate is done, before anything of PB
is read from that connection, the server prints

    client certificate <CN>   the first commonName of the certificate's subject

(`client certificate ` followed by an empty string when the subject has no
commonName), so a TLS login prints `client certificate <CN>`, `login alice`,
`logout alice`.  Without --client-ca no client certificate is asked for and
that line is never printed.  Certificates that cannot be loaded exit 1 with
a message on stderr before `listening on`.

Self-test with login_client.py:

    target/interop-venv/bin/python tests/interop/python/login_server.py 0
    target/interop-venv/bin/python tests/interop/python/login_client.py <port>
    target/interop-venv/bin/python tests/interop/python/login_server.py 0 --tls server.pem server-key.pem
    target/interop-venv/bin/python tests/interop/python/login_client.py <port> alice wonderland --tls ca.pem
"""

import os
import re
import stat
import sys

import peers  # this directory is sys.path[0] when run as a script

PROGRAM = "login_server.py"
LIFETIME = peers.IDLE_LIMIT  # seconds before giving up

peers.require_twisted(PROGRAM)

from twisted.cred import checkers, portal  # noqa: E402
from twisted.internet import reactor  # noqa: E402
from twisted.internet.interfaces import IHandshakeListener, IReadDescriptor  # noqa: E402
from twisted.internet.main import CONNECTION_DONE  # noqa: E402
from twisted.python import log  # noqa: E402
from twisted.python.reflect import qual  # noqa: E402
from twisted.spread import pb  # noqa: E402
from zope.interface import implementer  # noqa: E402


def say(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


class User(pb.Avatar):
    def __init__(self, name, mind):
        self.name = name
        self.mind = mind

    def perspective_whoami(self):
        return self.name

    def perspective_echo(self, x):
        return x

    def perspective_callMeBack(self, x):
        if self.mind is None:
            return None
        return self.mind.callRemote("hello", x)


@implementer(portal.IRealm)
class Realm:
    def requestAvatar(self, avatarId, mind, *interfaces):
        if pb.IPerspective not in interfaces:
            raise NotImplementedError("only pb.IPerspective")
        # The checker gives the username as the client sent it: bytes.
        name = avatarId.decode("utf-8") if isinstance(avatarId, bytes) else str(avatarId)
        say(f"login {name}")
        return pb.IPerspective, User(name, mind), lambda: say(f"logout {name}")


@implementer(IReadDescriptor)
class StdinWatch:
    """Stops the reactor (exit 0) when stdin, a pipe, reaches EOF or hangs up."""

    def __init__(self, status):
        self.status = status

    def fileno(self):
        return 0

    def logPrefix(self):
        return "stdin"

    def doRead(self):
        try:
            data = os.read(0, 4096)
        except BlockingIOError:
            return None
        except OSError as e:
            return e
        # Whatever is written to stdin is ignored; EOF ends the run (the
        # reactor then calls connectionLost).
        return None if data else CONNECTION_DONE

    def connectionLost(self, reason):
        self.status["code"] = 0
        if reactor.running:
            reactor.stop()


def watch_stdin(status):
    try:
        mode = os.fstat(0).st_mode
    except OSError:
        return
    if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
        reactor.addReader(StdinWatch(status))


@implementer(IHandshakeListener)
class TLSBroker(pb.Broker):
    """The server's Broker over TLS.  TLSMemoryBIOProtocol calls
    handshakeCompleted() on a wrapped protocol that provides
    IHandshakeListener once the handshake is done, before it hands it any
    data; a connection lost before that failed its handshake (Twisted does
    not log that), which goes to stderr."""

    handshake_done = False

    def handshakeCompleted(self):
        self.handshake_done = True

    def connectionLost(self, reason):
        if not self.handshake_done:
            sys.stderr.write(f"{PROGRAM}: TLS handshake failed: {qual(reason.type)}: {reason.value}\n")
        super().connectionLost(reason)


class ClientCertBroker(TLSBroker):
    """TLSBroker with --client-ca: says `client certificate <CN>` once the
    handshake is done; OpenSSL has verified the certificate by then."""

    def handshakeCompleted(self):
        from cryptography.x509.oid import NameOID

        super().handshakeCompleted()
        cert = self.transport.getPeerCertificate()
        if cert is not None:
            names = cert.to_cryptography().subject.get_attributes_for_oid(NameOID.COMMON_NAME)
            say(f"client certificate {names[0].value if names else ''}")


PEM_BLOCK = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.S)


def tls_options(cert_path, key_path, ca_path):
    """ssl.CertificateOptions for the server: CERT_PATH's first certificate with
    KEY_PATH's key, the rest of CERT_PATH as the chain; with CA_PATH, a client
    certificate verified against all of its certificates is required."""
    from OpenSSL import crypto
    from twisted.internet import ssl

    with open(cert_path, "rb") as f:
        chain = PEM_BLOCK.findall(f.read())
    with open(key_path, "rb") as f:
        key = f.read()
    if not chain:
        raise ValueError(f"no certificate in {cert_path}")
    leaf = ssl.PrivateCertificate.loadPEM(chain[0] + b"\n" + key)
    options = dict(
        privateKey=leaf.privateKey.original,
        certificate=leaf.original,
        extraCertChain=[crypto.load_certificate(crypto.FILETYPE_PEM, c) for c in chain[1:]],
    )
    if ca_path is not None:
        with open(ca_path, "rb") as f:
            roots = [ssl.Certificate.loadPEM(c) for c in PEM_BLOCK.findall(f.read())]
        if not roots:
            raise ValueError(f"no certificate in {ca_path}")
        # What PrivateCertificate.options(*roots) does: a trustRoot makes
        # OpenSSL require (VERIFY_FAIL_IF_NO_PEER_CERT) and verify the peer's.
        options["trustRoot"] = ssl.trustRootFromCertificates(roots)
    return ssl.CertificateOptions(**options)


def parse(argv):
    """(port, tls) from `[PORT] [--tls CERT KEY [--client-ca CA]]`; tls is
    None or (cert, key, ca), ca None without --client-ca."""
    args = list(argv[1:])
    tls = None
    if "--client-ca" in args and "--tls" not in args:
        sys.exit(f"{PROGRAM}: --client-ca needs --tls CERT.pem KEY.pem before it")
    if "--tls" in args:
        i = args.index("--tls")
        rest = args[i + 1 :]
        if len(rest) == 2 and "--client-ca" not in rest:
            tls = (rest[0], rest[1], None)
        elif len(rest) == 4 and rest[2] == "--client-ca":
            tls = (rest[0], rest[1], rest[3])
        else:
            sys.exit(
                f"{PROGRAM}: --tls takes two arguments, CERT.pem KEY.pem, optionally followed by "
                "--client-ca CA.pem, and comes last"
            )
        del args[i:]
    port, _ = peers.parse_args(PROGRAM, [PROGRAM] + args)
    return port, tls


def main(argv):
    port, tls = parse(argv)
    options = None
    if tls is not None:
        try:
            options = tls_options(*tls)
        except Exception as e:
            sys.stderr.write(f"{PROGRAM}: cannot load the TLS certificates: {type(e).__name__}: {e}\n")
            return 1
    status = {"code": 1}

    def give_up():
        sys.stderr.write(f"{PROGRAM}: still running after {LIFETIME:.0f} s, exiting\n")
        status["code"] = 1
        reactor.stop()

    log.startLogging(sys.stderr, setStdout=False)
    checker = checkers.InMemoryUsernamePasswordDatabaseDontUse(alice=b"wonderland")
    factory = pb.PBServerFactory(portal.Portal(Realm(), [checker]))
    if options is None:
        listening = reactor.listenTCP(port, factory, interface="127.0.0.1")
    else:
        factory.protocol = TLSBroker if tls[2] is None else ClientCertBroker
        listening = reactor.listenSSL(port, factory, options, interface="127.0.0.1")
    say(f"listening on 127.0.0.1:{listening.getHost().port}")
    watch_stdin(status)
    timer = reactor.callLater(LIFETIME, give_up)
    reactor.run()
    if timer.active():
        timer.cancel()
    return status["code"]


if __name__ == "__main__":
    sys.exit(main(sys.argv))
