"""The ``heihachi`` command line (click): the top group, its command groups, and ``main``.

Each command group lives in its own module (``tasks``: ``hf ...``; ``index``;
``admin``: ``plugins`` and ``models``); plugins add commands through the
``register_commands`` hook. Heavy imports happen inside commands.

Exit codes: 0 all files ok (or skipped), 1 some files failed (the others
completed), 2 usage or configuration error.
"""

from __future__ import annotations

import sys

import click

from heihachi import __version__
from heihachi.cli.admin import models_group, plugins_cmd
from heihachi.cli.common import EXIT_SOME_FAILED, EXIT_USAGE
from heihachi.cli.index import index_group
from heihachi.cli.serve import serve_cmd
from heihachi.cli.tasks import hf
from heihachi.errors import HeihachiError, UsageError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="heihachi")
def cli() -> None:
    """Heihachi: neural audio models as plugins over music collections."""


cli.add_command(hf)
cli.add_command(index_group)
cli.add_command(plugins_cmd)
cli.add_command(models_group)
cli.add_command(serve_cmd)


def _load_plugin_commands() -> None:
    from heihachi.registry import get_registry

    for impl in get_registry().pm.hook.register_commands.get_hookimpls():
        try:
            impl.function(cli=cli)
        except Exception as e:
            click.echo(f"heihachi: warning: plugin {impl.plugin_name!r}: register_commands "
                       f"failed: {e}", err=True)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI and map errors to exit codes."""
    try:
        _load_plugin_commands()
        cli.main(args=argv, prog_name="heihachi", standalone_mode=False)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
    except click.ClickException as e:
        e.show()
        sys.exit(EXIT_USAGE)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except UsageError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(EXIT_USAGE)
    except HeihachiError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(EXIT_SOME_FAILED)
