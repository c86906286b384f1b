"""``wsinspector run``: a test file replayed against a server, headless, with a line per step and an exit code."""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import signal
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from wsinspector import APP_NAME
from wsinspector.cli import EXIT_USAGE, printable
from wsinspector.cli_output import err, run_until_done, say, stopping_when_output_gone
from wsinspector.core.defaults import DEFAULT_HANDSHAKE_TIMEOUT_S

if TYPE_CHECKING:
    from wsinspector.app.replayer import ReplayController
    from wsinspector.core.connection_defaults import ConnectionDefaults
    from wsinspector.core.profiles import ConnectionProfile, ResolvedTarget
    from wsinspector.core.scenario.model import Scenario
    from wsinspector.core.scenario.secrets import Masker
    from wsinspector.core.scenario.verdict import RunResult, StepResult
    from wsinspector.core.store import Store

_DETAIL_LINES = 40
_INTERRUPTED = "interrupted (Ctrl+C)"
_TERMINATED = "terminated (SIGTERM)"
#: the run's error when the reader of its output went away (`| head`): it stops as Ctrl+C stops it
_OUTPUT_CLOSED = "standard output closed"


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    run = sub.add_parser(
        "run", help="replay a test file against a server, headless; exit code 0 passed, 1 failed, 2 error",
        description="Replay a test file (docs/test-format.md) against a WebSocket server and report each step. "
                    "Exit code: 0 every step passed, 1 an expectation failed, 2 a connection or usage error.")
    run.add_argument("test_file", metavar="TEST_FILE", type=Path, help="the test file (.wstest.yaml)")
    run.add_argument("--url", help="connect here instead of the file's url")
    run.add_argument("--var", action="append", default=[], metavar="NAME=VALUE",
                     help="set a variable (overrides the file's); repeat for more. --var NAME alone takes the "
                          "value from the environment variable NAME (or NAME in upper case, - and . as _), "
                          "so secrets stay out of the command line")
    run.add_argument("--env", metavar="NAME", help="use this environment's variables (and the globals), as kept "
                     "in the data folder (Environments… in the window); they win over the file's, --var wins over "
                     "them")
    run.add_argument("--env-file", type=Path, metavar="FILE",
                     help="variables from a file: NAME=value lines (dotenv), or a .json/.yaml mapping; they win over "
                          "--env's, --var wins over them")
    run.add_argument("--junit", type=Path, metavar="REPORT.xml", help="write a JUnit XML report (also on failure)")
    run.add_argument("--speed", default="1", metavar="X",
                     help="scale the recorded delays: 1 as recorded, 2 twice as fast, 0.5 half speed, "
                          "max without delays (default 1)")
    run.add_argument("--engine", choices=("wire", "qt"), help="the connection engine (default: wire)")
    run.add_argument("--connect-timeout", type=_seconds_option, metavar="SECONDS",
                     help="how long connecting, TLS and the opening handshake may take "
                          f"(default {DEFAULT_HANDSHAKE_TIMEOUT_S:g})")
    tls = run.add_argument_group("TLS and addressing (wss://)")
    tls.add_argument("--ca-file", metavar="PATH", help="trust the CA certificates of this PEM file or folder as "
                     "well as the system's (SSL_CERT_FILE and SSL_CERT_DIR count too)")
    tls.add_argument("--client-cert", metavar="PATH", help="our certificate: PEM (the key may be in it) or PKCS#12")
    tls.add_argument("--client-key", metavar="PATH", help="the PEM private key of --client-cert")
    tls.add_argument("--client-key-passphrase-env", metavar="VAR", help="the passphrase of an encrypted client "
                     "key or PKCS#12 file is in this environment variable (never on the command line)")
    tls.add_argument("--tls-min", choices=("1.2", "1.3"), help="the oldest TLS version accepted")
    tls.add_argument("--trust-cert", action="append", default=[], metavar="SHA256",
                     help="trust the server certificate with this SHA-256 fingerprint even when verification "
                          "fails; repeat for more")
    tls.add_argument("--insecure", action="store_true",
                     help="do not verify the server's certificate (any certificate is accepted; the run says so)")
    tls.add_argument("--connect-to", metavar="HOST:PORT", help="connect to this address; TLS and Host still use "
                     "the URL's name (like curl's --resolve)")
    tls.add_argument("--proxy", metavar="URL", help="http://[user[:password]@]host:port or socks5://…, none "
                     "(direct), or system (the default: HTTPS_PROXY, http_proxy, ALL_PROXY, NO_PROXY); the "
                     "password is used, never printed or recorded (the process list shows it: prefer "
                     "--proxy-password-env)")
    tls.add_argument("--proxy-password-env", metavar="VAR",
                     help="the proxy's password is in this environment variable")
    # SUPPRESS: without the option here, the top-level --data-dir stays
    run.add_argument("--data-dir", type=Path, default=argparse.SUPPRESS, metavar="DIR",
                     help="where the replay is recorded as a session (default: the platform's user data folder)")
    run.add_argument("--no-record", action="store_true", help="do not record the replay as a session")
    run.add_argument("--no-defaults", action="store_true",
                     help="ignore the app-wide connection defaults (TLS and proxy) kept in the data folder; without "
                          "it they apply where the test and these options leave a setting unset "
                          f"(see: {APP_NAME} defaults)")


def _connection_changes(args: argparse.Namespace) -> dict[str, dict[str, object]]:
    """The connection settings the run's options change, by record."""
    tls: dict[str, object] = {}
    for option, field in (("ca_file", "ca_file"), ("client_cert", "client_cert"), ("client_key", "client_key"),
                          ("tls_min", "min_version")):
        if getattr(args, option):
            tls[field] = getattr(args, option)
    if args.trust_cert:
        tls["pinned"] = tuple(args.trust_cert)
    if args.insecure:
        tls["verify"] = False
    if args.client_key_passphrase_env:
        tls["passphrase"] = _secret_from_environment("--client-key-passphrase-env", args.client_key_passphrase_env)
    changes: dict[str, dict[str, object]] = {"tls": tls} if tls else {}
    if args.connect_to:
        changes["endpoint"] = {"connect_to": args.connect_to}
    if args.proxy:
        changes["proxy"] = _proxy_option(args.proxy)
    if args.proxy_password_env:
        changes.setdefault("proxy", {})["password"] = _secret_from_environment("--proxy-password-env",
                                                                                args.proxy_password_env)
    return changes


def _secret_from_environment(option: str, name: str) -> str:
    """The value of the environment variable an option names; ProfileError when there is none."""
    from wsinspector.core.profiles import ProfileError

    value = os.environ.get(name)
    if value is None:
        raise ProfileError(f"{option} {name}: the environment has no variable {name} (export it first)")
    return value


def _proxy_option(text: str) -> dict[str, object]:
    """--proxy as the settings of a connection's proxy; ProfileError when it cannot be used."""
    from wsinspector.core.proxies import COMMAND_LINE, parse_proxy_url

    if text.strip().lower() in ("none", "system"):
        return {"mode": text.strip().lower()}
    choice = parse_proxy_url(text, COMMAND_LINE)
    return {"mode": choice.kind, "host": choice.host, "port": choice.port, "username": choice.username,
            "password": choice.password}


def _warn_if_unverified(target: ResolvedTarget, insecure: bool) -> None:
    if target.url.lower().startswith("wss:") and not target.tls.verify:
        why = "--insecure" if insecure else "the app-wide connection defaults"
        err(f"warning: {why}: the server's certificate is not verified; any certificate is accepted")


def _environment_name(name: str) -> str:
    """``x-api-key`` -> ``X_API_KEY``: the name a shell can export."""
    return re.sub(r"[^A-Za-z0-9_]", "_", name).upper()


def var_option(text: str, environ: Mapping[str, str] = os.environ) -> tuple[str, str]:
    """A ``--var`` argument as ``(name, value)``: ``NAME=VALUE``, or ``NAME`` alone for the value of the
    environment variable ``NAME`` (else its upper-case, shell-friendly spelling). ``ValueError`` says what is
    wrong."""
    from wsinspector.core.scenario.variables import parse_var_option

    if "=" in text:
        return parse_var_option(text)
    name = text.strip()
    parse_var_option(f"{name}=")  # a valid name
    for candidate in dict.fromkeys((name, _environment_name(name))):
        if candidate in environ:
            return parse_var_option(f"{name}={environ[candidate]}")
    alternative = _environment_name(name)
    also = f" or {alternative}" if alternative != name else ""
    raise ValueError(f"--var {text!r}: no value given, and the environment has no variable {name}{also} "
                     "(write NAME=VALUE, or export the variable first)")


def _seconds_option(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError(f"{text!r}: give a number of seconds above 0 and at most 3600")
    return value


def _marks() -> tuple[str, str]:
    encoding = getattr(sys.stdout, "encoding", None) or "ascii"
    try:
        "✓✗".encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return "OK  ", "FAIL"
    return "✓", "✗"


_LINE_CHARS = 400


def _clip_line(line: str) -> str:
    if len(line) <= _LINE_CHARS:
        return line
    return f"{line[:_LINE_CHARS]}… ({len(line) - _LINE_CHARS:,} more characters)"


def _indented(label: str, text: str, indent: str = "      ") -> list[str]:
    lines = text.split("\n")
    if len(lines) > _DETAIL_LINES:
        lines = [*lines[:_DETAIL_LINES], f"… ({len(lines) - _DETAIL_LINES} more lines)"]
    return [f"{indent}{label}:", *(f"{indent}  {_clip_line(line)}" for line in lines)]


def format_step(step: StepResult) -> str:
    """One step's line, and for a failure or an error what went wrong, indented below it; control
    characters escaped, long lines cut."""
    return printable(_format_step(step))


def _format_step(step: StepResult) -> str:
    from wsinspector.core.scenario.verdict import Verdict, format_duration

    ok, bad = _marks()
    if step.status is Verdict.SKIPPED:
        return f"  - {step.name}  (skipped)"
    if step.status is Verdict.PASSED:
        note = f"  {step.message}" if step.message and step.kind != "send" else ""  # captures, waits
        return f"  {ok} {step.name}  ({format_duration(step.duration_s)}){note}"
    lines = [f"  {bad} {step.name}  ({format_duration(step.duration_s)}, {step.status.value})"]
    if step.message:
        lines.append(f"      {_clip_line(step.message)}")
    if step.diff:
        lines += _indented("diff", step.diff)
    else:
        if step.expected:
            lines += _indented("expected", step.expected)
        if step.received:
            lines += _indented("received", step.received)
    return "\n".join(lines)


def format_summary(result: RunResult) -> str:
    from wsinspector.core.scenario.verdict import format_duration
    from wsinspector.core.words import counted

    totals = result.totals
    verdict = {0: "PASSED", 1: "FAILED"}.get(result.exit_code, "ERROR")
    parts = [f"{totals['passed']} passed", f"{totals['failed']} failed"]
    if totals["error"]:
        parts.append(counted(totals["error"], "error"))
    if totals["skipped"]:
        parts.append(f"{totals['skipped']} skipped")
    closing = "; the connection did not end well" if result.closing else ""
    return (f"{verdict}: {', '.join(parts)} of {counted(totals['total'], 'step')} in "
            f"{format_duration(result.duration_s)}{closing}")


def _with_environment(args: argparse.Namespace, test: Scenario,
                      overrides: dict[str, str]) -> tuple[Scenario, dict[str, str], list[str]]:
    """``--env`` and ``--env-file``: the test with the globals under its own variables, the overrides with the
    environment's variables under ``--var``'s (docs/test-format.md, Environments), and the secret values."""
    from wsinspector.app.context import default_data_dir
    from wsinspector.app.environments import command_line_layers
    from wsinspector.core.environments import merge_variables
    from wsinspector.core.secrets import MemoryKeeper

    if args.env is None and args.env_file is None:
        return test, overrides, []
    data_dir = getattr(args, "data_dir", None) or default_data_dir()
    globals_, environment, secrets, warnings = command_line_layers(data_dir, args.env, args.env_file, MemoryKeeper(),
                                                                   overrides)
    for warning in warnings:
        err(f"warning: {warning}")
    if globals_:
        test = dataclasses.replace(test, variables=tuple(
            merge_variables(globals_=globals_.items(), connection=test.variables).items()))
    return test, merge_variables(environment=environment.items(), overrides=overrides), secrets


def _open_record_store(data_dir: Path | None) -> Store | None:
    """The store to record into, or None (a warning says why) when the data folder cannot be used."""
    from wsinspector.app.context import DB_NAME, default_data_dir
    from wsinspector.core.store import Store, StoreError

    path = (data_dir or default_data_dir()) / DB_NAME
    try:
        store = Store(path)
    except (StoreError, OSError) as exc:
        err(f"warning: the replay is not recorded: {exc}")
        return None
    store.start_writer()  # the frames are committed on a thread: a step never waits for the disk
    return store


def _print_run_errors(result: RunResult, said_error: list[str], shown: Callable[[str], str]) -> None:
    """The run's own errors, after its steps: a connection error no step reports (unless said already), and
    what went wrong as the connection ended after the steps."""
    from wsinspector.core.scenario.verdict import Verdict

    if result.error and not result.count(Verdict.ERROR) and not said_error:
        say(shown(f"  {_marks()[1]} connection: {result.error}"))
    if result.closing:
        say(shown(f"  {_marks()[1]} closing: {result.closing}"))


class RunSetupError(Exception):
    """A test run that cannot start: the one line to say (the path or ``run:`` first)."""


@dataclasses.dataclass
class PreparedRun:
    """A test file read, with what its run connects with and the values it never shows (:func:`prepare_run`)."""

    path: Path
    test: Scenario
    #: the ``--var`` values over the environment's
    overrides: dict[str, str]
    speed: float
    changes: dict[str, dict[str, object]]
    defaults: ConnectionDefaults | None
    profile: ConnectionProfile
    target: ResolvedTarget
    #: the values no output shows (secrets of the test, its variables and the command line)
    secrets: list[str]

    @property
    def name(self) -> str:
        return self.test.name or self.path.name

    def controller(self, args: argparse.Namespace, store: Store | None) -> ReplayController:
        """The run's controller, recording into ``store`` (None: not recorded)."""
        from wsinspector.app.replayer import ReplayController
        from wsinspector.core.proxies import COMMAND_LINE

        return ReplayController(self.test, variables=self.overrides, url=args.url, speed=self.speed,
                                engine=args.engine, connect_timeout_s=args.connect_timeout, store=store,
                                replay_of=str(self.path.resolve()), changes=self.changes,
                                base_dir=self.path.resolve().parent, secrets=self.secrets, defaults=self.defaults,
                                proxy_from=COMMAND_LINE)


def prepare_run(args: argparse.Namespace) -> PreparedRun:
    """Read the test file and the options of ``wsinspector run`` (``args`` as its parser gives them) into what
    the run needs; RunSetupError says why it cannot run."""
    from wsinspector.core.scenario.run import parse_speed
    from wsinspector.core.scenario.yaml_io import ScenarioFileError, read_test

    try:
        speed = parse_speed(args.speed)
        overrides = dict(var_option(text) for text in args.var)
        from_environment = {text.strip() for text in args.var if "=" not in text}
    except ValueError as exc:
        raise RunSetupError(f"run: {exc}") from None
    path: Path = args.test_file
    try:
        test = read_test(path, check_url=args.url is None)
    except ScenarioFileError as exc:
        raise RunSetupError(f"{path}: {exc}") from None
    except OSError as exc:
        raise RunSetupError(f"cannot read the test file {path}: {exc.strerror or exc}") from None
    try:
        test, overrides, env_secrets = _with_environment(args, test, overrides)
    except ValueError as exc:  # EnvironmentsError: an unknown name, a bad file
        raise RunSetupError(f"run: {exc}") from None
    prepared = _connection(args, path, test, overrides, speed)
    prepared.secrets = _secret_values(args, prepared, from_environment) + env_secrets
    return prepared


def _connection(args: argparse.Namespace, path: Path, test: Scenario, overrides: dict[str, str],
                speed: float) -> PreparedRun:
    """The run's connection settings: the test's, the options' changes, the app-wide defaults."""
    from wsinspector.cli_defaults import run_defaults
    from wsinspector.core.auth import checked_target
    from wsinspector.core.connection_defaults import effective
    from wsinspector.core.profiles import ProfileError
    from wsinspector.core.scenario.variables import check_variables, to_profile

    try:
        check_variables(test if args.url is None else dataclasses.replace(test, url=args.url), overrides)
        profile = to_profile(test, overrides, args.url, base_dir=path.resolve().parent)
        if args.engine:
            profile = profile.with_changes(protocol={"engine": args.engine})
        if args.connect_timeout is not None:
            profile = profile.with_changes(handshake={"timeout_s": args.connect_timeout})
        changes = _connection_changes(args)
        profile = profile.with_changes(**changes)
        defaults = None if args.no_defaults else run_defaults(args)
        profile = effective(profile, defaults)
        target = checked_target(profile)
    except ProfileError as exc:  # unknown variables included
        raise RunSetupError(f"{path}: {exc}") from None
    return PreparedRun(path, test, overrides, speed, changes, defaults, profile, target, [])


def _secret_values(args: argparse.Namespace, prepared: PreparedRun, from_environment: set[str]) -> list[str]:
    """The values never shown: those from the environment (the way to pass secrets), those named like secrets,
    and those the test uses where credentials go (a header like Cookie, a token in the URL, a password field)."""
    from wsinspector.core.scenario.secrets import run_secret_values
    from wsinspector.core.scenario.variables import initial_variables

    test, target = prepared.test, prepared.target
    variables = initial_variables(test, prepared.overrides)
    secrets = run_secret_values(test, variables, args.url)
    secrets += [value for name, value in variables.items() if name in from_environment]
    secrets += [value for value in (target.tls.passphrase, target.proxy.password) if value]
    return secrets


def run_arguments(test_file: Path, **options: object) -> argparse.Namespace:
    """The arguments of ``wsinspector run TEST_FILE`` as its parser gives them, with ``options`` set over its
    defaults (``url``, ``var``, ``env``, ``speed``...): a run started from elsewhere than the command line."""
    parser = argparse.ArgumentParser(prog=APP_NAME)
    add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["run", str(test_file)])
    args.data_dir = None
    for name, value in options.items():
        if not hasattr(args, name):
            raise AttributeError(f"run has no option {name}")
        setattr(args, name, value)
    return args


def result_masker(prepared: PreparedRun, authenticated: Iterable[str] = ()) -> Masker:
    """What masks the run's secrets (and what its auth's requests gave: a token) in what it reports."""
    from wsinspector.core.scenario.secrets import Masker

    return Masker([*prepared.secrets, *authenticated])


def run_test_file(args: argparse.Namespace) -> int:
    """``wsinspector run``: headless (QCoreApplication: no display, no widgets)."""
    from wsinspector.core.auth import shown_url
    from wsinspector.core.scenario.verdict import Verdict

    try:
        prepared = prepare_run(args)
    except RunSetupError as exc:
        err(str(exc))
        return EXIT_USAGE
    test, profile, target = prepared.test, prepared.profile, prepared.target

    from PySide6.QtCore import QCoreApplication

    maskers = [result_masker(prepared)]

    def shown(text: str) -> str:
        return printable(maskers[0].text(text))

    app = QCoreApplication.instance() or QCoreApplication([APP_NAME])
    name = prepared.name
    store = None if args.no_record else _open_record_store(getattr(args, "data_dir", None))
    controller = prepared.controller(args, store)
    _warn_if_unverified(target, args.insecure)
    speed_text = "max" if prepared.speed == 0 else f"{prepared.speed:g}x"
    steps_text = f"{len(test.steps)} step{'s' if len(test.steps) != 1 else ''}"
    said_error: list[str] = []

    def on_step(step: StepResult) -> None:
        if step.status is Verdict.SKIPPED and not said_error:
            so_far = controller.replay.result()
            if so_far.error and not so_far.count(Verdict.ERROR):  # an error no step owns: the connection's
                said_error.append(so_far.error)
                say(shown(f"  {_marks()[1]} connection: {so_far.error}"))
        say(format_step(maskers[0].step(step)))

    controller.step_finished.connect(on_step)
    # what the auth's requests gave (a token) is masked from then on
    controller.authenticated.connect(lambda values: maskers.__setitem__(0, result_masker(prepared, values)))
    controller.recording_failed.connect(lambda message: err(f"warning: {message}"))
    controller.finished.connect(lambda _result: app.quit())

    from wsinspector.app.signals import SignalWatcher

    def on_signal(signum: int) -> None:
        controller.cancel(_INTERRUPTED if signum == signal.SIGINT else _TERMINATED)

    watcher = SignalWatcher()
    watcher.received.connect(on_signal)
    with stopping_when_output_gone(lambda: controller.cancel(_OUTPUT_CLOSED)):
        say(shown(f"{name}: {steps_text} against {shown_url(profile)} ({target.protocol.engine} engine, "
                  f"speed {speed_text})"))
        run_until_done(app, controller, watcher)
    result = maskers[0].result(controller.result or controller.replay.result())
    _print_run_errors(result, said_error, shown)
    if result.error in (_INTERRUPTED, _TERMINATED):
        err(f"{result.error}: the run was stopped")
    if controller.session_id is not None and store is not None:
        say(f"Recorded as session {controller.session_id} in {store.path}")
    code = _write_junit(args.junit, result, name)
    say(format_summary(result))
    if store is not None:
        store.close()
    return code


def _write_junit(report: Path | None, result: RunResult, name: str) -> int:
    """The run's exit code, once its JUnit report is written (2 when it cannot be)."""
    from wsinspector.core.scenario.verdict import junit_xml

    if report is not None:
        try:
            report.parent.mkdir(parents=True, exist_ok=True)
            report.write_text(junit_xml(result, name), encoding="utf-8")
        except OSError as exc:
            err(f"cannot write the JUnit report {report}: {exc.strerror or exc}")
            return EXIT_USAGE
    return result.exit_code
