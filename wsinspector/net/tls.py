"""TLS for both engines: the configuration a connection's settings ask for, pinned certificates, and what the
server showed, in the core's terms.

Qt reads the system's certificate store itself but not ``SSL_CERT_FILE``/``SSL_CERT_DIR``; OpenSSL users expect
those to count, so they are added here like a connection's own CA file.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QBuffer,
    QByteArray,
    QCryptographicHash,
    QIODevice,
    QMessageLogContext,
    QtMsgType,
    qFormatLogMessage,
    qInstallMessageHandler,
)
from PySide6.QtNetwork import QSsl, QSslCertificate, QSslConfiguration, QSslError, QSslKey, QSslSocket

from wsinspector.core.events import CertificateInfo, Failure, FailureKind, TlsInfo
from wsinspector.core.profiles import ResolvedTarget, Tls

_PROTOCOLS = {"": QSsl.SslProtocol.SecureProtocols, "1.2": QSsl.SslProtocol.TlsV1_2OrLater,
              "1.3": QSsl.SslProtocol.TlsV1_3OrLater}
_VERSION_NAMES = {QSsl.SslProtocol.TlsV1_2: "TLS 1.2", QSsl.SslProtocol.TlsV1_3: "TLS 1.3"}
_PKCS12_SUFFIXES = (".p12", ".pfx")
#: certificate errors that "Trust this certificate" may overrule: about who the certificate is from, never
#: that it does not belong to the key the server proved it holds
_TRUSTABLE = frozenset({
    QSslError.SslError.SelfSignedCertificate, QSslError.SslError.SelfSignedCertificateInChain,
    QSslError.SslError.UnableToGetLocalIssuerCertificate, QSslError.SslError.UnableToGetIssuerCertificate,
    QSslError.SslError.UnableToVerifyFirstCertificate, QSslError.SslError.CertificateUntrusted,
    QSslError.SslError.HostNameMismatch, QSslError.SslError.CertificateExpired,
    QSslError.SslError.CertificateNotYetValid, QSslError.SslError.InvalidCaCertificate,
    QSslError.SslError.CertificateRejected, QSslError.SslError.PathLengthExceeded,
    QSslError.SslError.InvalidPurpose,
})


#: the server of a wss:// URL closed before the TLS handshake was done
CLOSED_DURING_TLS = ("the server closed the connection before the TLS handshake completed (if it serves plain "
                     "ws:// on that port, use ws://)")
CLOSED_DURING_TLS_OR_UPGRADE = ("the server closed the connection during the TLS or WebSocket handshake; if it "
                                "serves plain ws:// on that port, use ws://")
#: what OpenSSL says when the two sides share no TLS version
_NO_SHARED_VERSION = ("protocol version", "unsupported protocol", "no protocols available", "wrong version number")


class TlsSetupError(ValueError):
    """A TLS setting that cannot be used (a file that is missing or not what it should be): for the user."""


def configuration(tls: Tls) -> QSslConfiguration:
    """The TLS configuration ``tls`` asks for, on top of the system's: extra CAs, our certificate, the oldest
    version accepted, and no verification when the user chose that."""
    config = QSslConfiguration.defaultConfiguration()
    extra = [*_environment_cas(),
             *(_certificates(Path(tls.ca_file).expanduser(), "CA file") if tls.ca_file else [])]
    if extra:
        config.addCaCertificates(extra)
    config.setProtocol(_PROTOCOLS[tls.min_version])
    if not tls.verify:
        config.setPeerVerifyMode(QSslSocket.PeerVerifyMode.VerifyNone)
    if tls.client_cert:
        certificate, key, chain = _client_identity(Path(tls.client_cert).expanduser(),
                                                   Path(tls.client_key).expanduser() if tls.client_key else None,
                                                   tls.passphrase)
        config.setLocalCertificateChain([certificate, *chain])
        config.setPrivateKey(key)
    return config


def _environment_cas() -> list[QSslCertificate]:
    """The certificates ``SSL_CERT_FILE`` and ``SSL_CERT_DIR`` name (a missing one is ignored, as OpenSSL does).
    Read again only when the variables or what they name changed: parsing Debian's 576 took 150 ms of the
    calling thread (the window's, for every connection a proxy opens upstream) on each TLS connection."""
    key = _environment_key()
    found = _environment_read.get(key)
    if found is None:
        found = []
        cert_file = os.environ.get("SSL_CERT_FILE", "")
        if cert_file and Path(cert_file).is_file():
            found += _pem_certificates(Path(cert_file).read_bytes())
        for folder in filter(None, os.environ.get("SSL_CERT_DIR", "").split(os.pathsep)):
            if Path(folder).is_dir():
                found += _folder_certificates(Path(folder))
        _environment_read.clear()
        _environment_read[key] = found
    return list(found)


#: the environment's certificates as last read, by what they were read from (:func:`_environment_key`)
_environment_read: dict[tuple[object, ...], list[QSslCertificate]] = {}


def _environment_key() -> tuple[object, ...]:
    """What the environment's certificates were read from: the variables, and the size and time of change of
    each file they name (a folder's, file by file)."""
    cert_file = os.environ.get("SSL_CERT_FILE", "")
    cert_dir = os.environ.get("SSL_CERT_DIR", "")
    paths = [Path(cert_file)] if cert_file else []
    for folder in filter(None, cert_dir.split(os.pathsep)):
        with contextlib.suppress(OSError):
            paths += sorted(Path(folder).iterdir())
    stats: list[object] = [cert_file, cert_dir]
    for path in paths:
        try:
            info = path.stat()
        except OSError:
            stats.append((str(path), None))
        else:
            stats.append((str(path), info.st_size, info.st_mtime_ns))
    return tuple(stats)


def _certificates(path: Path, what: str) -> list[QSslCertificate]:
    if path.is_dir():
        found = _folder_certificates(path)
    else:
        found = _pem_certificates(_read(path, what))
    if not found:
        raise TlsSetupError(f"The {what} {path} holds no PEM certificate")
    return found


def _folder_certificates(folder: Path) -> list[QSslCertificate]:
    found: list[QSslCertificate] = []
    for entry in sorted(folder.iterdir()):
        if entry.is_file():
            try:
                found += _pem_certificates(entry.read_bytes())
            except OSError:
                continue  # an unreadable file among many: the others still count
    return found


def _pem_certificates(data: bytes) -> list[QSslCertificate]:
    if b"-----BEGIN CERTIFICATE-----" not in data:
        return []
    return [c for c in QSslCertificate.fromData(QByteArray(data), QSsl.EncodingFormat.Pem) if not c.isNull()]


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise TlsSetupError(f"The {what} {path} does not exist") from None
    except IsADirectoryError:
        raise TlsSetupError(f"The {what} {path} is a folder, not a file") from None
    except OSError as exc:
        raise TlsSetupError(f"Cannot read the {what} {path}: {exc.strerror or exc}") from None


def _client_identity(cert_path: Path, key_path: Path | None,
                     passphrase: str = "") -> tuple[QSslCertificate, QSslKey, list[QSslCertificate]]:
    """Our certificate, its key and the rest of its chain, from PEM files or a PKCS#12 file; an encrypted key
    or PKCS#12 file is opened with ``passphrase``."""
    data = _read(cert_path, "client certificate")
    if cert_path.suffix.lower() in _PKCS12_SUFFIXES or b"-----BEGIN" not in data:
        return _pkcs12(cert_path, data, passphrase)
    certificates = _pem_certificates(data)
    if not certificates:
        raise TlsSetupError(f"The client certificate {cert_path} holds no PEM certificate")
    key_data = _read(key_path, "client key") if key_path is not None else data
    where = key_path or cert_path
    encrypted = b"ENCRYPTED" in key_data and b"PRIVATE KEY" in key_data
    if encrypted and not passphrase:
        raise TlsSetupError(f"The client key in {where} is protected by a passphrase: enter it (TLS, Passphrase; "
                            "wsinspector run: --client-key-passphrase-env)")
    for algorithm in (QSsl.KeyAlgorithm.Ec, QSsl.KeyAlgorithm.Rsa, QSsl.KeyAlgorithm.Dsa, QSsl.KeyAlgorithm.Dh):
        key = QSslKey(QByteArray(key_data), algorithm, QSsl.EncodingFormat.Pem, QSsl.KeyType.PrivateKey,
                      QByteArray(passphrase.encode()))
        if not key.isNull():
            return certificates[0], key, certificates[1:]
    if encrypted:
        raise TlsSetupError(f"The passphrase does not open the client key in {where}: it is wrong")
    raise TlsSetupError(f"No private key found in {where}" + ("" if key_path else "; give the key file too"))


def _pkcs12(path: Path, data: bytes, passphrase: str) -> tuple[QSslCertificate, QSslKey, list[QSslCertificate]]:
    buffer = QBuffer()
    buffer.setData(QByteArray(data))
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    key, certificate = QSslKey(), QSslCertificate()
    chain: list[QSslCertificate] = []
    with _without_qt_pkcs12_lines():
        imported = QSslCertificate.importPkcs12(buffer, key, certificate, chain, QByteArray(passphrase.encode()))
    if not imported:
        if passphrase:
            raise TlsSetupError(f"Cannot read the PKCS#12 file {path} with the passphrase given: the passphrase is "
                                "wrong, or the file is damaged or not PKCS#12")
        raise TlsSetupError(f"Cannot read the PKCS#12 file {path}: it is damaged, not PKCS#12, or protected by a "
                            "passphrase (enter it: TLS, Passphrase; wsinspector run: --client-key-passphrase-env)")
    return certificate, key, list(chain)


@contextmanager
def _without_qt_pkcs12_lines() -> Iterator[None]:
    """Qt's TLS backend logs a PKCS#12 file it cannot open (``Unable to parse PKCS#12 structure, error:…``);
    the caller says so in its own words, so that line is left out while it reads one. Every other message goes
    where it went."""
    previous: Callable[..., Any] | None = None

    def handler(mode: QtMsgType, context: QMessageLogContext, message: str) -> None:
        if context.category == "qt.tlsbackend.ossl" and "PKCS#12 structure" in message:
            return
        if previous is not None:
            previous(mode, context, message)
        else:  # Qt's default handler cannot be called from here: write what it would
            sys.stderr.write(qFormatLogMessage(mode, context, message) + "\n")

    previous = qInstallMessageHandler(handler)
    try:
        yield
    finally:
        qInstallMessageHandler(previous)


# -- what the server showed ---------------------------------------------------------------------------------


def fingerprint(certificate: QSslCertificate) -> str:
    """SHA-256 of the certificate's DER form: upper-case hex pairs joined by ':'."""
    digest = bytes(certificate.digest(QCryptographicHash.Algorithm.Sha256).data())
    return ":".join(f"{b:02X}" for b in digest)


def certificate_info(certificate: QSslCertificate) -> CertificateInfo:
    labels = {QSsl.AlternativeNameEntryType.DnsEntry: "DNS", QSsl.AlternativeNameEntryType.EmailEntry: "email",
              QSsl.AlternativeNameEntryType.IpAddressEntry: "IP"}
    alt_names = tuple(f"{labels.get(kind, 'other')}:{name}"
                      for kind, names in certificate.subjectAlternativeNames().items() for name in names)
    return CertificateInfo(
        subject=certificate.subjectDisplayName() or certificate.toText().splitlines()[0],
        issuer=certificate.issuerDisplayName(),
        alt_names=alt_names,
        not_before=certificate.effectiveDate().toString("yyyy-MM-dd HH:mm:ss 'UTC'"),
        not_after=certificate.expiryDate().toString("yyyy-MM-dd HH:mm:ss 'UTC'"),
        sha256=fingerprint(certificate),
        serial=bytes(certificate.serialNumber().data()).decode("ascii", "replace"),
    )


def tls_info(config: QSslConfiguration, tls: Tls, pinned: bool) -> TlsInfo:
    """What an encrypted connection negotiated, from its session's configuration."""
    cipher = config.sessionCipher()
    version = _VERSION_NAMES.get(config.sessionProtocol(), cipher.protocolString() or "TLS")
    return TlsInfo(version=version, cipher=cipher.name(),
                   chain=tuple(certificate_info(c) for c in config.peerCertificateChain()),
                   verified=tls.verify, pinned=pinned)


def pinned_match(errors: list[QSslError], peer: QSslCertificate, tls: Tls) -> bool:
    """Whether every verification error is one the user overruled by trusting this exact certificate."""
    return (bool(tls.pinned) and not peer.isNull() and fingerprint(peer) in tls.pinned
            and all(error.error() in _TRUSTABLE for error in errors))


# -- what a failure of a wss:// connection likely means --------------------------------------------------


def explained(failure: Failure, target: ResolvedTarget) -> Failure:
    """A failure before a wss:// connection opened, with what the connection's TLS settings say about it: the
    certificates the user trusts (a trusted certificate that changed is told apart), an oldest version the
    server may not reach, a client certificate the server may want and was not given."""
    if not target.url.lower().startswith("wss:"):
        return failure
    settings = target.tls
    if failure.kind is FailureKind.TLS and failure.peer_certificate is not None and settings.pinned:
        return replace(failure, trusted=tuple(settings.pinned))
    closed = failure.detail in (CLOSED_DURING_TLS, CLOSED_DURING_TLS_OR_UPGRADE)
    if settings.min_version and (closed or (failure.kind is FailureKind.TLS and any(
            words in failure.detail.lower() for words in _NO_SHARED_VERSION))):
        return replace(failure, kind=FailureKind.TLS, tls_errors=(), detail=(
            f"the server ended the TLS handshake: the oldest TLS version accepted is {settings.min_version} (TLS, "
            "Oldest version; wsinspector run: --tls-min), and the server may speak only older ones"))
    if not settings.client_cert and (
            (failure.kind is FailureKind.HANDSHAKE_INVALID and "closed the connection" in failure.detail)
            or "certificate required" in failure.detail.lower()):
        return replace(failure, detail=f"{failure.detail}; a server that requires a client certificate closes the "
                                       "connection like this when none is given (TLS, Client certificate; "
                                       "wsinspector run: --client-cert)")
    return failure
