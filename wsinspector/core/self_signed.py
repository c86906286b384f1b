"""A certificate for a local TLS server when the user gives none: self-signed, for ``localhost``, 127.0.0.1 and
::1, valid for a year, with an EC P-256 key. Made in memory each time a server starts with it (nothing is
written: the key never rests on disk); a client trusts it by its fingerprint or by the PEM the server prints."""

from __future__ import annotations

import datetime
import ipaddress

__all__ = ["SelfSignedError", "self_signed_localhost"]


class SelfSignedError(RuntimeError):
    """The certificate cannot be made (the ``cryptography`` package is missing)."""


def self_signed_localhost(days: int = 365) -> tuple[bytes, bytes]:
    """(certificate PEM, unencrypted private key PEM)."""
    try:
        from cryptography import x509  # noqa: PLC0415
        from cryptography.hazmat.primitives import hashes, serialization  # noqa: PLC0415
        from cryptography.hazmat.primitives.asymmetric import ec  # noqa: PLC0415
        from cryptography.x509.oid import NameOID  # noqa: PLC0415
    except ImportError as exc:
        raise SelfSignedError("a self-signed certificate needs the 'cryptography' package "
                              "(pip install cryptography), or give --tls-cert and --tls-key") from exc
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "wsinspector (self-signed)")])
    now = datetime.datetime.now(datetime.UTC)
    alt = x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                       x509.IPAddress(ipaddress.ip_address("::1"))])
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(minutes=5))
                   .not_valid_after(now + datetime.timedelta(days=days))
                   .add_extension(alt, critical=False)
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .sign(key, hashes.SHA256()))
    return (certificate.public_bytes(serialization.Encoding.PEM),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()))
