"""aigov.certs: a CA that signs leaves only, leaves with SANs and EKUs, a real TLS handshake."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import stat
import threading
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from aigov.certs import KeyPair, issue, make_ca, make_signing_key


@pytest.fixture(scope="module")
def ca() -> KeyPair:
    return make_ca("aigov test CA")


def _cert(pair: KeyPair) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pair.cert_pem)


def _verify_signed_by(leaf: x509.Certificate, issuer: x509.Certificate) -> None:
    public = issuer.public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey)
    hash_algorithm = leaf.signature_hash_algorithm
    assert hash_algorithm is not None
    public.verify(leaf.signature, leaf.tbs_certificate_bytes, ec.ECDSA(hash_algorithm))


def test_ca_is_a_ca_limited_to_signing_leaves(ca: KeyPair) -> None:
    cert = _cert(ca)
    constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical is True
    assert constraints.value.ca is True
    assert constraints.value.path_length == 0
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_cert_sign is True
    assert usage.crl_sign is True
    assert cert.subject == cert.issuer
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "aigov test CA"
    _verify_signed_by(cert, cert)  # self-signed
    key = serialization.load_pem_private_key(ca.key_pem, password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    assert key.curve.name == "secp256r1"


def test_ca_validity_window(ca: KeyPair) -> None:
    cert = _cert(ca)
    now = dt.datetime.now(dt.UTC)
    assert cert.not_valid_before_utc < now < cert.not_valid_after_utc
    assert cert.not_valid_after_utc - now > dt.timedelta(days=3600)


def test_issue_makes_a_leaf_signed_by_the_ca(ca: KeyPair) -> None:
    pair = issue(
        ca,
        "system:aigov",
        organizations=("system:masters", "aigov-admins"),
        hosts=("127.0.0.1", "::1", "aigov.aigov-system.svc", "localhost"),
        server=True,
        client=True,
    )
    leaf, ca_cert = _cert(pair), _cert(ca)
    _verify_signed_by(leaf, ca_cert)
    assert leaf.issuer == ca_cert.subject

    assert leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "system:aigov"
    orgs = [a.value for a in leaf.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
    assert orgs == ["system:masters", "aigov-admins"]

    sans = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.IPAddress) == [
        ipaddress.ip_address("127.0.0.1"),
        ipaddress.ip_address("::1"),
    ]
    assert sans.get_values_for_type(x509.DNSName) == ["aigov.aigov-system.svc", "localhost"]

    eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]

    constraints = leaf.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert constraints.ca is False
    aki = leaf.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ski.digest

    key = serialization.load_pem_private_key(pair.key_pem, password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    leaf_public = leaf.public_key()
    assert isinstance(leaf_public, ec.EllipticCurvePublicKey)
    assert key.public_key().public_numbers() == leaf_public.public_numbers()


@pytest.mark.parametrize(
    ("server", "client", "expected"),
    [
        (True, False, [ExtendedKeyUsageOID.SERVER_AUTH]),
        (False, True, [ExtendedKeyUsageOID.CLIENT_AUTH]),
    ],
)
def test_issue_sets_only_the_requested_usages(
    ca: KeyPair, server: bool, client: bool, expected: list[x509.ObjectIdentifier]
) -> None:
    leaf = _cert(issue(ca, "x", server=server, client=client))
    assert list(leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == expected


def test_issue_without_hosts_or_usages_has_no_such_extensions(ca: KeyPair) -> None:
    leaf = _cert(issue(ca, "plain"))
    with pytest.raises(x509.ExtensionNotFound):
        leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    with pytest.raises(x509.ExtensionNotFound):
        leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert leaf.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME) == []


def test_issue_refuses_a_non_ec_ca_key(ca: KeyPair) -> None:
    rsa_key_pem, _ = make_signing_key()
    with pytest.raises(TypeError, match="CA key must be an EC key"):
        issue(KeyPair(ca.cert_pem, rsa_key_pem), "x")


def test_a_leaf_from_another_ca_does_not_verify(ca: KeyPair) -> None:
    other = make_ca("other CA")
    leaf = _cert(issue(other, "x"))
    with pytest.raises(InvalidSignature):
        _verify_signed_by(leaf, _cert(ca))


def test_write_and_read_round_trip_with_a_private_key_file(ca: KeyPair, tmp_path: Path) -> None:
    pair = issue(ca, "srv", hosts=("127.0.0.1",), server=True)
    cert_path, key_path = tmp_path / "tls.crt", tmp_path / "tls.key"
    pair.write(cert_path, key_path)
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert KeyPair.read(cert_path, key_path) == pair


def test_write_tightens_an_existing_key_file(ca: KeyPair, tmp_path: Path) -> None:
    cert_path, key_path = tmp_path / "tls.crt", tmp_path / "tls.key"
    key_path.write_bytes(b"old")
    key_path.chmod(0o644)
    ca.write(cert_path, key_path)
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert key_path.read_bytes() == ca.key_pem


def test_make_signing_key_gives_a_matching_rsa_pem_pair() -> None:
    private_pem, public_pem = make_signing_key()
    assert private_pem.startswith(b"-----BEGIN PRIVATE KEY-----")
    assert public_pem.startswith(b"-----BEGIN PUBLIC KEY-----")
    private = serialization.load_pem_private_key(private_pem, password=None)
    public = serialization.load_pem_public_key(public_pem)
    assert isinstance(private, rsa.RSAPrivateKey)
    assert isinstance(public, rsa.RSAPublicKey)
    assert private.key_size == 2048
    assert private.public_key().public_numbers() == public.public_numbers()


# A real handshake: the leaf serves TLS, a client trusting only the CA accepts it.


def _serve_once(server_ctx: ssl.SSLContext, listener: socket.socket, result: list[str]) -> None:
    try:
        conn, _ = listener.accept()
    except OSError as exc:
        result.append(f"accept failed: {exc}")
        return
    with conn:
        conn.settimeout(5)
        try:
            with server_ctx.wrap_socket(conn, server_side=True) as tls:
                tls.sendall(b"hello")
                result.append("served")
        except (ssl.SSLError, OSError) as exc:
            result.append(f"handshake failed: {type(exc).__name__}")


def _handshake(ca: KeyPair, trusted: KeyPair, tmp_path: Path) -> tuple[bytes, list[str]]:
    """Serve one TLS connection with a leaf of `ca`; connect trusting only `trusted`."""
    leaf = issue(ca, "127.0.0.1", hosts=("127.0.0.1",), server=True)
    cert_path, key_path = tmp_path / "srv.crt", tmp_path / "srv.key"
    leaf.write(cert_path, key_path)
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(cert_path, key_path)
    client_ctx = ssl.create_default_context(cadata=trusted.cert_pem.decode())
    assert client_ctx.verify_mode == ssl.CERT_REQUIRED
    assert client_ctx.check_hostname is True

    result: list[str] = []
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(5)
        port = listener.getsockname()[1]
        thread = threading.Thread(target=_serve_once, args=(server_ctx, listener, result))
        thread.start()
        try:
            with (
                socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
                client_ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
            ):
                return tls.recv(5), result
        finally:
            thread.join(timeout=5)
            assert not thread.is_alive()


def test_tls_handshake_succeeds_with_a_client_trusting_the_ca(ca: KeyPair, tmp_path: Path) -> None:
    data, result = _handshake(ca, ca, tmp_path)
    assert data == b"hello"
    assert result == ["served"]


def test_tls_handshake_fails_with_a_client_trusting_another_ca(ca: KeyPair, tmp_path: Path) -> None:
    with pytest.raises(ssl.SSLCertVerificationError, match="certificate verify failed"):
        _handshake(ca, make_ca("someone else's CA"), tmp_path)
