"""What a wss:// connection negotiated and the server's certificate chain, to read and copy."""

from __future__ import annotations

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPlainTextEdit, QVBoxLayout, QWidget

from wsinspector.core.events import CertificateInfo, TlsInfo
from wsinspector.ui import palette


def describe_tls(info: TlsInfo) -> str:
    """One line: version, cipher, and how the certificate was accepted."""
    how = ("certificate NOT verified" if not info.verified else
           "certificate trusted by its fingerprint" if info.pinned else "certificate verified")
    return f"{info.version} · {info.cipher} · {how}"


def describe_certificate(number: int, certificate: CertificateInfo) -> str:
    lines = [f"{number}. {certificate.subject}",
             f"   Issuer:     {certificate.issuer}",
             f"   Valid:      {certificate.not_before} to {certificate.not_after}"]
    if certificate.alt_names:
        lines.append(f"   Names:      {', '.join(certificate.alt_names)}")
    lines.append(f"   SHA-256:    {certificate.sha256}")
    if certificate.serial:
        lines.append(f"   Serial:     {certificate.serial}")
    return "\n".join(lines)


class CertificateView(QDialog):
    """The TLS session of a connection and the chain the server showed, its own certificate first."""

    def __init__(self, info: TlsInfo, host: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("certificateView")
        self.setWindowTitle(f"Certificate — {host}")
        self.resize(860, 420)
        summary = QLabel(describe_tls(info))
        summary.setObjectName("tlsSummary")
        if not info.verified:
            palette.style(summary, "color: {error}; font-weight: bold;")
        self.text = QPlainTextEdit()
        self.text.setObjectName("certificateChain")
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        chain = [describe_certificate(i, c) for i, c in enumerate(info.chain, 1)]
        self.text.setPlainText("\n\n".join(chain) if chain else "The server showed no certificate chain.")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(summary)
        layout.addWidget(self.text, 1)
        layout.addWidget(buttons)
