"""How the command line presents itself: one format for the defaults in ``--help`` and one
for warnings (used by :mod:`collision.cli`)."""

from __future__ import annotations

import argparse
import contextlib
import sys

__all__ = ["HelpFormatter", "default_is", "warning_printer"]


class HelpFormatter(argparse.HelpFormatter):
    """The one place defaults enter the help: ``(default: X)`` after an option's text.

    ``X`` is the option's default value, or the text :func:`default_is` attached when the
    default is decided at run time (the option's value is then None); flags and options
    without a default show none.  Help texts themselves never mention their default.
    """

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        shown = _shown_default(action)
        if shown is None:
            return text
        return f"{text} (default: {shown.replace('%', '%%')})"  # help is %-formatted


def _shown_default(action: argparse.Action) -> str | None:
    """What the help says an option defaults to, or None for nothing to say."""
    text = getattr(action, "default_text", None)
    if text is not None:
        return text
    value = action.default
    if (not action.option_strings or value is None or value is argparse.SUPPRESS
            or isinstance(value, bool)):
        return None
    return f"{value:g}" if isinstance(value, float) else str(value)


def default_is(action: argparse.Action, text: str) -> argparse.Action:
    """Say in the help what an option whose value is None until run time defaults to."""
    action.default_text = text
    return action


def warning_printer(name: str):
    """A :func:`warnings.showwarning` that prints ``NAME: warning: message`` on stderr: the
    one format of every warning on the command line (no source path, line or code)."""

    def show(message, category, filename, lineno, file=None, line=None) -> None:
        stream = sys.stderr if file is None else file
        with contextlib.suppress(AttributeError, OSError):  # no stderr: nowhere to say it
            stream.write(f"{name}: warning: {message}\n")

    return show
