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

import sys

import peers  # this directory is sys.path[0] when run as a script

PROGRAM = "login_server.py"

peers.require_twisted(PROGRAM)

from peers import say  # noqa: E402
from twisted.cred import checkers, portal  # noqa: E402
from twisted.internet import reactor  # noqa: E402
from twisted.internet.interfaces import IHandshakeListener  # noqa: E402
from twisted.python.reflect import qual  # noqa: E402
from twisted.spread import pb  # noqa: E402
from zope.interface import implementer  # noqa: E402


class User(peers.MindAvatar, pb.Avatar):
    """Alice's perspective: whoami(), echo(x), callMeBack(x)."""


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


def tls_options(cert_path, key_path, ca_path):
    """ssl.CertificateOptions for the server: CERT_PATH's first certificate with
    KEY_PATH's key, the rest of CERT_PATH as the chain; with CA_PATH, a client
    certificate verified against all of its certificates is required."""
    from twisted.internet import ssl

    leaf, chain = peers.load_private_certificate(cert_path, key_path)
    options = dict(privateKey=leaf.privateKey.original, certificate=leaf.original, extraCertChain=chain)
    if ca_path is not None:
        roots = peers.load_certificates(ca_path)
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
    options = peers.tls_options_or_exit(PROGRAM, tls_options, tls)

    def listen():
        checker = checkers.InMemoryUsernamePasswordDatabaseDontUse(alice=b"wonderland")
        factory = pb.PBServerFactory(portal.Portal(peers.realm(User), [checker]))
        if options is None:
            return reactor.listenTCP(port, factory, interface="127.0.0.1")
        factory.protocol = TLSBroker if tls[2] is None else ClientCertBroker
        return reactor.listenSSL(port, factory, options, interface="127.0.0.1")

    return peers.serve_until_eof(PROGRAM, listen)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
