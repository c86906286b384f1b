"""One HTTP request before a connect (a login, an OAuth token) over Qt's ``QNetworkAccessManager``, on the main
thread's event loop, with the connection's TLS settings and proxy; the answer in the core's terms."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QObject, QTimer, QUrl, Signal, Slot
from PySide6.QtNetwork import QNetworkAccessManager, QNetworkReply, QNetworkRequest, QSslError

from wsinspector.core.auth import HttpRequest, HttpResponse
from wsinspector.core.profiles import Proxy, Tls
from wsinspector.net import proxy as proxies
from wsinspector.net import tls as tls_setup

#: an answer larger than this is not read (a login or token answer is a few hundred bytes): the request is
#: stopped as soon as more has arrived (or its Content-Length says more will), so memory stays bounded
MAX_BODY = 1 << 20
#: what the reply holds unread before Qt stops reading the socket (more than the limit: past it, the request stops)
READ_BUFFER = 2 * MAX_BODY


class HttpExchange(QObject):
    """Makes one request; ``finished`` with the answer (any status), or ``failed`` with a sentence naming the
    request and what went wrong (no answer, TLS, the time limit). Neither comes after :meth:`abort`.

    Signals:
        finished(HttpResponse)
        failed(str)
    """

    finished = Signal(object)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._manager = QNetworkAccessManager(self)
        self._reply: QNetworkReply | None = None
        self._request: HttpRequest | None = None
        self._tls = Tls()
        self._timeout_s = 0.0
        self._timed_out = False
        self._timer = QTimer(self)
        self._timer.setObjectName("httpRequestTimeout")
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._on_timeout)

    def start(self, request: HttpRequest, tls: Tls, proxy: Proxy, timeout_s: float) -> None:
        """Send ``request``; ``tls`` applies to an https:// URL, ``proxy`` is chosen as for the connection.
        ``ValueError`` (a TLS file that cannot be used) before anything is sent."""
        qrequest = QNetworkRequest(QUrl(request.url))
        # a redirect is not followed (credentials would go where the user did not say): it is the answer
        qrequest.setAttribute(QNetworkRequest.Attribute.RedirectPolicyAttribute,
                              QNetworkRequest.RedirectPolicy.ManualRedirectPolicy)
        if request.url.lower().startswith("https:"):
            qrequest.setSslConfiguration(tls_setup.configuration(tls))
        for name, value in request.headers:
            qrequest.setRawHeader(QByteArray(name.encode("latin-1", "replace")),
                                  QByteArray(value.encode("utf-8")))
        scheme, _, rest = request.url.partition(":")
        network, _choice = proxies.network_proxy(("wss" if scheme.lower() == "https" else "ws") + ":" + rest, proxy)
        self._manager.setProxy(network)
        self._request, self._tls, self._timeout_s, self._timed_out = request, tls, timeout_s, False
        verb = QByteArray(request.method.encode("ascii"))
        reply = (self._manager.sendCustomRequest(qrequest, verb, QByteArray(request.body)) if request.body
                 else self._manager.sendCustomRequest(qrequest, verb))
        # past this much unread, Qt stops reading the socket. A request with a body starts on the event loop's
        # next turn and does not take a size set before it starts: set again once it has
        reply.setReadBufferSize(READ_BUFFER)
        QTimer.singleShot(0, self, self._limit_reading)
        reply.sslErrors.connect(self._on_ssl_errors)
        reply.metaDataChanged.connect(self._on_more)
        reply.readyRead.connect(self._on_more)
        reply.finished.connect(self._on_finished)
        self._reply = reply
        self._timer.start(int(timeout_s * 1000))

    def abort(self) -> None:
        """Stop: nothing more is signalled."""
        self._timer.stop()
        reply, self._reply = self._reply, None
        if reply is not None:
            reply.finished.disconnect(self._on_finished)
            reply.abort()
            reply.deleteLater()

    @Slot(list)
    def _on_ssl_errors(self, errors: list[QSslError]) -> None:
        reply = self._reply
        if reply is not None and tls_setup.pinned_match(errors, reply.sslConfiguration().peerCertificate(),
                                                        self._tls):
            reply.ignoreSslErrors()

    @Slot()
    def _limit_reading(self) -> None:
        if self._reply is not None:
            self._reply.setReadBufferSize(READ_BUFFER)

    @Slot()
    def _on_more(self) -> None:
        """Headers or body bytes arrived: an answer that is, or says it will be, larger than ``MAX_BODY`` is not
        read any further."""
        reply, request = self._reply, self._request
        if reply is None or request is None:
            return
        length = reply.header(QNetworkRequest.KnownHeaders.ContentLengthHeader)
        if reply.bytesAvailable() > MAX_BODY or (isinstance(length, int) and length > MAX_BODY):
            self.abort()
            self.failed.emit(self._too_large(request))
            self._manager.clearConnectionCache()

    @staticmethod
    def _too_large(request: HttpRequest) -> str:
        return f"{request.title}: the answer is larger than {MAX_BODY // 1024} KiB"

    @Slot()
    def _on_timeout(self) -> None:
        self._timed_out = True
        if self._reply is not None:
            self._reply.abort()

    @Slot()
    def _on_finished(self) -> None:
        self._timer.stop()
        reply, self._reply = self._reply, None
        request = self._request
        if reply is None or request is None:
            return
        reply.deleteLater()
        status = reply.attribute(QNetworkRequest.Attribute.HttpStatusCodeAttribute)
        if self._timed_out:
            self.failed.emit(f"{request.title}: no answer within {self._timeout_s:g} s")
        elif not isinstance(status, int):
            self.failed.emit(f"{request.title} failed: {reply.errorString()}")
        elif reply.bytesAvailable() > MAX_BODY:
            self.failed.emit(self._too_large(request))
        else:
            reason = reply.attribute(QNetworkRequest.Attribute.HttpReasonPhraseAttribute)
            headers = tuple((bytes(name.data()).decode("latin-1"), bytes(value.data()).decode("latin-1"))
                            for name, value in reply.rawHeaderPairs())
            self.finished.emit(HttpResponse(status, reason if isinstance(reason, str) else "", headers,
                                            bytes(reply.readAll().data())))
        self._manager.clearConnectionCache()
