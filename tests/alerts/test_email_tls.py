"""The email notifier over STARTTLS and implicit TLS, with login, against aiosmtpd and a throwaway CA."""

from __future__ import annotations

import ipaddress
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from alerts.email import EmailNotifier, SmtpSettings
from tests.alerts.test_notifier_kit import manager_digest
from watchdog.notify import DeliveryError, Secret
from watchdog.simulators.smtp import FakeSmtp


@dataclass(frozen=True)
class Tls:
    server: ssl.SSLContext
    client: ssl.SSLContext


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    """A self-signed certificate for 127.0.0.1 and the two contexts that use it."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    folder: Path = tmp_path_factory.mktemp("tls")
    cert_pem, key_pem = folder / "cert.pem", folder / "key.pem"
    cert_pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_pem.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_pem, key_pem)
    return Tls(server=server, client=ssl.create_default_context(cafile=str(cert_pem)))


@pytest.fixture(params=["starttls", "implicit"])
def tls_server(request: pytest.FixtureRequest, tls: Tls) -> Iterator[FakeSmtp]:
    server = FakeSmtp(username="mailer", password="smtp-pass-9876", tls=tls.server,
                      implicit_tls=request.param == "implicit").start()
    try:
        yield server
    finally:
        server.stop()


def settings(server: FakeSmtp, **overrides: object) -> SmtpSettings:
    values: dict[str, object] = {"host": server.host, "port": server.port, "starttls": not server.implicit_tls,
                                 "ssl": server.implicit_tls, "username": Secret("mailer"),
                                 "password": Secret("smtp-pass-9876"), "timeout": 5}
    values.update(overrides)
    return SmtpSettings(**values)  # type: ignore[arg-type]


def test_the_digest_is_sent_encrypted_and_logged_in(tls_server: FakeSmtp, tls: Tls) -> None:
    EmailNotifier(settings(tls_server), ssl_context=tls.client).send(manager_digest())
    [mail] = tls_server.messages
    assert mail.parsed()["Subject"].startswith("[acme] Watchdog daily digest")


def test_an_untrusted_certificate_is_a_permanent_failure(tls_server: FakeSmtp) -> None:
    with pytest.raises(DeliveryError) as caught:
        EmailNotifier(settings(tls_server)).send(manager_digest())  # the system CAs do not know ours
    assert caught.value.permanent
    assert caught.value.code == "tls_verify"
    assert tls_server.messages == []
