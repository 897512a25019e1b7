"""Command line: the only module that prints or exits.

Exit codes (stable, for CI, pre-commit, kubeadm-style preflights and node-problem-detector):
  0  no finding at or above --fail-on
  1  at least one finding at or above --fail-on
  2  usage error, unreadable settings, or an internal error (one line on stderr, no traceback)
"""

from __future__ import annotations

import gc
import os
import sys
from dataclasses import replace
from typing import Any, Callable, List, NoReturn, Optional, Sequence, Tuple

import click

from . import __version__
from .model import DEFAULT_BIN_DIR, DEFAULT_CONF_DIR, FAIL_ON_VALUES, FailOn, Finding, Report, Severity
from .report import FORMATS

EXIT_CLEAN = 0
EXIT_FINDINGS = 1
EXIT_ERROR = 2

EPILOG = """\b
Examples:
  cnidoctor check                         # /etc/cni/net.d on this node
  cnidoctor check --no-probe net.d/       # static analysis only (CI, pre-commit)
  cnidoctor check --format sarif net.d/ > cnidoctor.sarif
  cnidoctor explain CNI301

\b
Exit codes: 0 clean, 1 findings at or above --fail-on, 2 usage or tool error.
"""


def _split_codes(values: Sequence[str]) -> Tuple[str, ...]:
    """--select/--ignore accept repeated flags and comma-separated lists."""
    out: List[str] = []
    for value in values:
        # Codes are upper-cased and rule names (slugs) mapped to codes by settings.resolve_code.
        out.extend(part.strip() for part in value.split(",") if part.strip())
    return tuple(out)


def _use_color(choice: str) -> bool:
    """--color auto honours NO_COLOR (no-color.org) and FORCE_COLOR, else colours only a TTY."""
    if choice == "always":
        return True
    if choice == "never" or os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return sys.stdout.isatty()


@click.group(epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="cnidoctor")
def cli() -> None:
    """Find out why CNI networking on a node will break, before a pod fails."""


@cli.command("check", epilog=EPILOG)
@click.argument("paths", nargs=-1, type=click.Path())
@click.option(
    "--example", is_flag=True, help="Check the broken example net.d that ships with cnidoctor (implies --no-probe)."
)
@click.option(
    "--probe/--no-probe",
    default=True,
    show_default=True,
    help="Resolve and probe plugin binaries (CNI_COMMAND=VERSION only). --no-probe: configs only.",
)
@click.option(
    "--bin-dir",
    "bin_dirs",
    multiple=True,
    metavar="DIR",
    help=f"Plugin directory, repeatable, searched in order (default {DEFAULT_BIN_DIR}).",
)
@click.option(
    "--runtime",
    "runtimes",
    multiple=True,
    metavar="NAME@VERSION",
    help="Runtime to model, e.g. containerd@1.6.3, crio@1.28, libcni@1.1.2 (default: all known).",
)
@click.option(
    "--probe-timeout",
    type=click.FloatRange(min=0.1, max=120),
    default=None,
    help="Seconds before a probed plugin is killed. [default: 5; 2 with --format npd, so a hung "
    "plugin still leaves cnidoctor inside node-problem-detector's default 5 s plugin timeout]",
)
@click.option(
    "--preflight",
    is_flag=True,
    help="Node bootstrap: kubeadm-style [ERROR CODE]/[WARNING CODE] lines (same as --format preflight); "
    "exit 1 on errors.",
)
@click.option(
    "--ignore-preflight-errors",
    "ignore_preflight",
    multiple=True,
    metavar="CODES",
    help="Codes (comma-separated) whose errors are shown as warnings, or 'all' - as kubeadm's flag.",
)
@click.option(
    "--host-root",
    type=click.Path(file_okay=False),
    metavar="DIR",
    help="Read the node under DIR (the host mounted in a container, `kubectl debug node/…`): its "
    "container runtime, the CNI dirs that runtime uses, its release and libcni. Default: / when no "
    "PATHS are given; with PATHS only the files are checked.",
)
@click.option("--no-cache", is_flag=True, help="Do not read or write the probe cache or the result cache.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(tuple(FORMATS)),
    default=None,
    help="Report format: text for people, json (versioned, with a JSON Schema), sarif (GitHub code "
    "scanning), github (workflow annotations), npd (one line for node-problem-detector), preflight "
    "(kubeadm-style lines). [default: text; github when GITHUB_ACTIONS=true]",
)
@click.option(
    "--fail-on",
    type=click.Choice(FAIL_ON_VALUES),
    default=None,
    help="Lowest severity that makes the exit code 1 (default: fail-on in the settings file, else error).",
)
@click.option("--select", multiple=True, metavar="CODES", help="Only these rule codes or prefixes (comma-separated).")
@click.option("--ignore", multiple=True, metavar="CODES", help="Skip these rule codes or prefixes (comma-separated).")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Settings file (default: .cnidoctor.toml or [tool.cnidoctor] in pyproject.toml, found upwards).",
)
@click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True)
@click.option("-q", "--quiet", is_flag=True, help="Findings only: no runtime, prediction or summary lines.")
@click.option(
    "--statistics", is_flag=True, help="Instead of the findings, count them per rule code (as ruff --statistics)."
)
def check_command(
    paths: Tuple[str, ...],
    example: bool,
    probe: bool,
    bin_dirs: Tuple[str, ...],
    runtimes: Tuple[str, ...],
    probe_timeout: Optional[float],
    no_cache: bool,
    fmt: Optional[str],
    fail_on: Optional[FailOn],
    select: Tuple[str, ...],
    ignore: Tuple[str, ...],
    config_path: Optional[str],
    color: str,
    host_root: Optional[str] = None,
    preflight: bool = False,
    ignore_preflight: Tuple[str, ...] = (),
    quiet: bool = False,
    statistics: bool = False,
) -> None:
    """Check CNI configs in PATHS (directories or files; default: the config dir of the node's
    container runtime, /etc/cni/net.d when none is found)."""
    # A check builds many small, acyclic objects (10,000 files: ~1 s of cyclic-GC passes that
    # find nothing), and so do the imports of the pipeline (~10 ms of passes on a cold run);
    # refcounting frees them, and the process ends right after, so skip the GC.
    gc.disable()
    from . import engine, fastpath, settings
    from .report import RenderOptions, renderer

    if example:
        paths, probe = (_example_dir(),), bool(bin_dirs)
    _require_valid_runtimes(runtimes)
    _require_existing_paths(paths)
    try:
        loaded = settings.load(config_path, os.getcwd())
        merged = loaded.with_flags(select=_split_codes(select), ignore=_split_codes(ignore))
    except settings.SettingsError as exc:
        _usage_error(str(exc))
    if host_root is not None and not os.path.isdir(host_root):
        _usage_error(f"--host-root {host_root}: not a directory")
    if probe_timeout is None:
        probe_timeout = NPD_PROBE_TIMEOUT if (fmt or default_format()) == "npd" else PROBE_TIMEOUT
    options = engine.Options(
        paths=paths or (DEFAULT_CONF_DIR,),
        probe=probe,
        bin_dirs=bin_dirs,
        runtimes=runtimes,
        probe_timeout=probe_timeout,
        use_cache=not no_cache,
        # A check of this node (no PATHS) reads the runtime at /; PATHS alone are files only.
        host_root=host_root if host_root is not None else (None if paths or example else "/"),
        dirs_from_flags=bool(paths) or example,
    )
    report = downgrade_errors(engine.run(options, merged), _split_codes(ignore_preflight))
    if preflight and fmt not in (None, "preflight"):
        click.echo(f"cnidoctor: error: --preflight prints its own format; drop --format {fmt}", err=True)
        sys.exit(EXIT_ERROR)
    fmt = ("preflight" if preflight else fmt) or default_format()
    if (quiet or statistics) and fmt not in ("text", "concise"):
        _usage_error(f"--{'quiet' if quiet else 'statistics'} goes with --format text or concise, not {fmt}")
    render_options = RenderOptions(
        color=_use_color(color),
        base_dir=os.getcwd(),
        tool_version=__version__,
        width=terminal_width(),
        quiet=quiet,
    )
    if statistics:
        from .report import render_statistics

        text = render_statistics(report)
    else:
        text = renderer(fmt)(report, render_options)
    # color= stops click stripping the ANSI codes the reporter chose to emit (--color always, FORCE_COLOR).
    click.echo(text, nl=False, color=render_options.color)
    code = exit_code(report, fail_on or merged.fail_on or "error")
    if fmt == "npd":
        from .report.npd import exit_code as npd_exit_code

        code = npd_exit_code(report, code)
    fastpath.offer(text, render_options.color, code, report.files, probe_timeout)  # the result cache
    sys.exit(code)


def terminal_width() -> int:
    """The terminal's columns (COLUMNS first, as shutil does); 80 when output is piped."""
    # shutil.get_terminal_size((80, 24)).columns, without importing shutil (it pulls in
    # fnmatch, bz2 and lzma, which a check never needs): COLUMNS when a positive integer, else
    # the terminal's width of sys.__stdout__, else 80.
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns > 0:
        return columns
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or 80  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return 80


def _usage_error(message: str) -> NoReturn:
    """One line on stderr and exit 2: a usage error is never a finding."""
    click.echo(f"cnidoctor: error: {message}", err=True)
    sys.exit(EXIT_ERROR)


def _require_valid_runtimes(runtimes: Sequence[str]) -> None:
    """--runtime must name a release the support matrix models (runtime/matrix.parse_spec)."""
    from .runtime import matrix

    for spec in runtimes:
        try:
            matrix.parse_spec(spec)
        except matrix.RuntimeSpecError as exc:
            _usage_error(str(exc))


def _require_existing_paths(paths: Sequence[str]) -> None:
    """A path the user named must exist (a dangling symlink counts: the engine reports it); the
    default config dir missing is a finding (CNI002), not a usage error."""
    for path in paths:
        if not os.path.lexists(path):
            _usage_error(f"{path}: no such file or directory")


# node-problem-detector kills a custom plugin after 5 s by default (pluginConfig.timeout,
# kubernetes/node-problem-detector:pkg/custompluginmonitor/types/config.go@v1.36.0); probes run
# in parallel, so 2 s per probe leaves room for start-up and the rest of the run.
PROBE_TIMEOUT = 5.0
NPD_PROBE_TIMEOUT = 2.0


def downgrade_errors(report: Report, codes: Sequence[str]) -> Report:
    """--ignore-preflight-errors: the named codes' (or ``all``) errors become warnings, as kubeadm's
    flag does for its checks (kubernetes/kubernetes:cmd/kubeadm/app/preflight/checks.go)."""
    if not codes:
        return report
    from .settings import resolve_code

    wanted = {resolve_code(c) for c in codes}
    every = "ALL" in wanted

    def soften(finding: Finding) -> Finding:
        hit = every or finding.code in wanted
        return replace(finding, severity=Severity.WARNING) if hit and finding.severity is Severity.ERROR else finding

    return replace(report, findings=tuple(soften(f) for f in report.findings))


def _example_dir() -> str:
    """The example net.d shipped inside the package (works from a wheel or a checkout)."""
    from importlib.resources import files

    return str(files("cnidoctor") / "example" / "net.d")


def default_format() -> str:
    """Like yamllint: annotations when running in GitHub Actions (they also carry the full text
    report in a folded group), plain text elsewhere."""
    return "github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text"


def exit_code(report: Report, fail_on: FailOn) -> int:
    """1 when any finding is at or above ``fail_on``; 0 otherwise (``never`` always 0)."""
    if fail_on == "never":
        return EXIT_CLEAN

    threshold = Severity.parse(fail_on)
    return EXIT_FINDINGS if any(f.severity >= threshold for f in report.findings) else EXIT_CLEAN


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["table", "json", "markdown"]), default="table", show_default=True)
def rules(fmt: str) -> None:
    """List every rule: code, name, default severity, summary."""
    from .report import catalog as catalog_render

    if fmt == "table":
        from .report.terminal import rules_table
        from .rules import catalog

        click.echo(rules_table(list(catalog().values()), terminal_width()), nl=False)
        return
    click.echo(catalog_render.render_catalog(fmt), nl=False)


EXPLAIN_EPILOG = """\b
Examples:
  cnidoctor explain CNI301                                  # a rule's documentation
  cnidoctor explain 'failed to destroy network for sandbox "ab12": invalid version "": the version is empty'
  kubectl describe pod web-0 | grep -i sandbox | cnidoctor explain
  cnidoctor explain --log /var/log/containerd.log --no-check
  journalctl -u kubelet | cnidoctor explain --log -

\b
Exit codes: 0 recognised (or a rule code), 1 not recognised, 2 usage error.
"""


@cli.command(epilog=EXPLAIN_EPILOG, short_help="Explain a rule code or a pasted runtime error line.")
@click.argument("subject", required=False)
@click.option(
    "--log",
    "log_file",
    type=click.File("r", errors="replace"),
    default=None,
    metavar="FILE",
    help="Scan a whole log (or - for stdin) and explain every CNI-related line.",
)
@click.option(
    "--check/--no-check",
    "node_check",
    default=None,
    help="Relate the error to this node's configs [default: on when the config dir exists].",
)
@click.option("--conf-dir", default=None, metavar="DIR", help=f"Config dir for --check (default {DEFAULT_CONF_DIR}).")
@click.option("--bin-dir", "bin_dirs", multiple=True, metavar="DIR", help="Plugin dir for --check, repeatable.")
@click.option(
    "--probe/--no-probe",
    default=True,
    show_default=True,
    help="With --check, probe plugin binaries (CNI_COMMAND=VERSION only).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
    help="text: rendered for the terminal; markdown: the same as Markdown; json.",
)
def explain(
    subject: Optional[str],
    log_file: Any,
    node_check: Optional[bool],
    conf_dir: Optional[str],
    bin_dirs: Tuple[str, ...],
    probe: bool,
    fmt: str,
) -> None:
    """Explain a rule code (e.g. CNI301), or a runtime's CNI error text (argument or stdin):
    which component printed it, the likely causes, the rule codes, the fix, and whether the
    cause is present on this node."""
    if subject and log_file is None and _rule_code(subject) is not None:
        _explain_code(subject, fmt)
        return
    directory = conf_dir or DEFAULT_CONF_DIR
    do_check = node_check if node_check is not None else os.path.isdir(directory)
    if log_file is not None:
        sys.exit(_explain_log(log_file, fmt, do_check, directory, bin_dirs, probe))
    if not subject or subject == "-":
        if sys.stdin is None or (subject is None and sys.stdin.isatty()):
            raise click.UsageError("give a rule code or an error text (argument or stdin), or --log FILE")
        subject = sys.stdin.read()
    if not subject.strip():
        raise click.UsageError("the error text is empty")
    sys.exit(_explain_text(subject, fmt, do_check, directory, bin_dirs, probe))


def _rule_code(subject: str) -> Optional[str]:
    """``CNI301``, ``cni301`` or the rule's name ``missing-cni-version`` -> ``CNI301``; a
    well-formed but unknown code is returned too (and refused by _explain_code)."""
    import re

    from .rules import catalog
    from .settings import resolve_code

    code = resolve_code(subject)
    if code in catalog() or re.fullmatch(r"CNI\d{3}", code):
        return code
    return None


def _explain_code(subject: str, fmt: str) -> None:
    from .report import catalog as catalog_render
    from .rules import catalog

    code = _rule_code(subject) or subject
    if code not in catalog():
        raise click.UsageError(f"unknown rule code {subject!r}; `cnidoctor rules` lists them")
    text = catalog_render.render_rule(catalog()[code], "json" if fmt == "json" else "text")
    click.echo(_for_terminal(text, fmt), nl=False)


def _for_terminal(markdown: str, fmt: str) -> str:
    """``--format text`` renders the Markdown for the terminal; ``--format markdown`` keeps it."""
    if fmt != "text":
        return markdown
    from .report.terminal import render_markdown

    color = _use_color("auto")

    def style(text: str, bold: bool, underline: bool) -> str:
        return click.style(text, bold=bold or None, underline=underline or None) if color else text

    return render_markdown(markdown, terminal_width(), style)


def _explain_text(text: str, fmt: str, do_check: bool, conf_dir: str, bin_dirs: Tuple[str, ...], probe: bool) -> int:
    import io
    import json

    from .explain import explain as explain_error
    from .explain import split_events
    from .explain.nodecheck import check_node
    from .explain.render import explanation_blocks, explanation_dict, render_blocks

    if len(split_events(text.splitlines())) > 1:  # a pasted excerpt: one explanation per distinct error
        return _explain_log(io.StringIO(text), fmt, do_check, conf_dir, bin_dirs, probe)
    result = explain_error(text)
    node = check_node(result, conf_dir, bin_dirs, probe) if do_check else None
    if fmt == "json":
        click.echo(json.dumps(explanation_dict(result, node), indent=2))
    else:
        click.echo(_for_terminal(render_blocks(explanation_blocks(result, node)), fmt), nl=False)
    return EXIT_CLEAN if result.recognised else EXIT_FINDINGS


def _explain_log(log_file: Any, fmt: str, do_check: bool, conf_dir: str, bin_dirs: Tuple[str, ...], probe: bool) -> int:
    import json

    from .explain import scan_log
    from .explain.nodecheck import check_node
    from .explain.render import explanation_blocks, explanation_dict, render_blocks

    lines = log_file.read(64 * 1024 * 1024).splitlines()
    groups = scan_log(lines)
    nodes = [
        check_node(g.explanation, conf_dir, bin_dirs, probe) if do_check and g.explanation.recognised else None
        for g in groups
    ]
    if fmt == "json":
        click.echo(
            json.dumps(
                {
                    "lines_scanned": len(lines),
                    "groups": [
                        {
                            "lines": list(g.line_numbers),
                            "count": len(g.line_numbers),
                            "example": g.explanation.text.strip(),
                            "explanation": explanation_dict(g.explanation, node),
                        }
                        for g, node in zip(groups, nodes)
                    ],
                },
                indent=2,
            )
        )
    elif not groups:
        click.echo(f"No CNI-related line in {len(lines)} lines.")
    else:
        for group, node in zip(groups, nodes):
            numbers = ", ".join(str(n) for n in group.line_numbers[:8]) + (
                " ..." if len(group.line_numbers) > 8 else ""
            )
            click.echo(f"=== {len(group.line_numbers)} line(s): {numbers}")
            click.echo(f"    {group.explanation.text.strip()[:300]}")
            click.echo(_for_terminal(render_blocks(explanation_blocks(group.explanation, node)), fmt))
    return EXIT_CLEAN if groups and all(g.explanation.recognised for g in groups) else EXIT_FINDINGS


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Entry point: run click, turn any unexpected exception into one line and exit code 2."""
    _guarded(lambda: cli.main(args=list(argv) if argv is not None else None, prog_name="cnidoctor"))


def _guarded(call: Callable[[], Any]) -> None:
    try:
        call()
    except SystemExit as exc:
        code = exc.code
        # click exits 2 on usage errors itself; anything non-integer is a message.
        raise SystemExit(code if isinstance(code, int) else EXIT_ERROR) from None
    except KeyboardInterrupt:
        raise SystemExit(130) from None
    except Exception as exc:
        if os.environ.get("CNIDOCTOR_DEBUG"):
            raise
        click.echo(
            f"cnidoctor: internal error: {type(exc).__name__}: {exc} (set CNIDOCTOR_DEBUG=1 for a traceback)", err=True
        )
        raise SystemExit(EXIT_ERROR) from None


@cli.command()
@click.option(
    "--bin-dir",
    "bin_dirs",
    multiple=True,
    metavar="DIR",
    help=f"Plugin directory, repeatable, searched in order (default {DEFAULT_BIN_DIR}).",
)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--no-cache", is_flag=True, help="Do not read or write the probe cache.")
@click.option(
    "--probe-timeout",
    type=click.FloatRange(min=0.1, max=120),
    default=5.0,
    show_default=True,
    help="Seconds before a probed plugin is killed (with its process group).",
)
@click.option(
    "--host-root",
    type=click.Path(file_okay=False),
    metavar="DIR",
    help="Read the node under DIR: without --bin-dir, list the bin dirs its container runtime uses.",
)
def plugins(
    bin_dirs: Tuple[str, ...], fmt: str, no_cache: bool, probe_timeout: float, host_root: Optional[str] = None
) -> None:
    """Every binary in the bin dirs: name, architecture, VERSION reply, release (from its Go
    build info), status (CNI_COMMAND=VERSION only). Exits 1 when a binary has an error-severity
    problem (wrong architecture, not executable, a broken reply), like check."""
    from .plugins.inventory import inventory
    from .report.plugins_table import render

    if host_root is not None and not os.path.isdir(host_root):
        _usage_error(f"--host-root {host_root}: not a directory")
    dirs = bin_dirs or _node_bin_dirs(host_root) or (DEFAULT_BIN_DIR,)
    found = inventory(dirs, timeout=probe_timeout, use_cache=not no_cache)
    click.echo(render(found, fmt, terminal_width()), nl=False)
    sys.exit(EXIT_FINDINGS if any(f.severity is Severity.ERROR for f in found.findings) else EXIT_CLEAN)


def _node_bin_dirs(host_root: Optional[str]) -> Tuple[str, ...]:
    """The bin dirs of the runtime found under ``host_root`` (as check --host-root reads them);
    the runtime itself is not executed (its release is not needed for the list)."""
    if host_root is None:
        return ()
    from . import engine
    from .crosscheck.runtime_view import node_dirs

    options = engine.Options(host_root=host_root, probe=False)
    return node_dirs(options, engine.read_runtime(options))[1]


@cli.command("completion")
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion(shell: str) -> None:
    """Print the shell completion script (as `kubectl completion`): e.g.
    `source <(cnidoctor completion bash)`. It is click's own (_CNIDOCTOR_COMPLETE=bash_source)."""
    from click.shell_completion import get_completion_class

    ctx = click.get_current_context()
    cls = get_completion_class(shell)
    if cls is None:  # pragma: no cover - click ships the three
        _usage_error(f"no completion for {shell}")
    click.echo(cls(cli, {}, "cnidoctor", "_CNIDOCTOR_COMPLETE").source())
    ctx.exit(EXIT_CLEAN)


@cli.command("aggregate")
@click.argument("reports", nargs=-1, required=True, type=click.File("r", encoding="utf-8", errors="replace"))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def aggregate_command(reports: Tuple[Any, ...], fmt: str) -> None:
    """Summarise a fleet: many `check --format json` reports (files, or - for stdin; JSON lines or
    whole documents). Nodes per finding, config drift, plugin and runtime version spread, nodes
    whose runtime was not detected. Exits 2 when an input could not be read as a report."""
    from .report.aggregate import aggregate, render_json, render_text

    summary = aggregate([r.read() for r in reports], names=[r.name for r in reports])
    click.echo((render_json if fmt == "json" else render_text)(summary), nl=False)
    sys.exit(EXIT_ERROR if summary.errors else EXIT_CLEAN)
