"""The docs a user reads first agree with each other (issue 22, item 4): help() of
the client and its options on Tk, ``o2sync --help`` on the venues, and help text for
every argument of every command."""

from __future__ import annotations

import argparse
import pydoc
import re
from pathlib import Path

from cliutil import o2sync

from o2sync import O2Client
from o2sync.cli.main import build_parser
from o2sync.engine.options import Options

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_help_of_client_and_options_gives_the_readme_tk_recipe() -> None:
    assert "do not call `root.after` from o2sync's threads" in README
    for thing in (O2Client, Options):
        text = pydoc.render_doc(thing, renderer=pydoc.plaintext)
        assert "root.after(0" not in text, thing
        assert re.search(r"\.put", text) and "root.after" in text, thing  # the queue pump


def test_top_level_help_names_both_venues_and_the_environment() -> None:
    proc = o2sync("--help")
    assert proc.returncode == 0
    text = " ".join(proc.stdout.split())
    assert "O2 Exchange and of tplus" in text and "--venue tplus" in text
    assert "O2SYNC_O2_WS_URL" in text and "O2SYNC_TPLUS_MDS_URL" in text


def _actions(parser: argparse.ArgumentParser, name: str):  # type: ignore[no-untyped-def]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub, subparser in action.choices.items():
                yield from _actions(subparser, f"{name} {sub}")
        else:
            yield name, action


def test_every_argument_of_every_command_has_help_text() -> None:
    missing = [f"{name}: {'/'.join(a.option_strings) or a.dest}"
               for name, a in _actions(build_parser(), "o2sync") if not a.help]
    assert missing == []
