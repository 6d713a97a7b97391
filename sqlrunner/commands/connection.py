"""`python -m sqlrunner connection create|delete|list [NAME] [--home DIR]`.

BigQuery creates connections outside SQL (console, bq, Pulumi); the local lake keeps a
registry of them so that CREATE EXTERNAL TABLE ... WITH CONNECTION can refuse unknown ones.
"""

from __future__ import annotations

import argparse
from typing import Any

from pipeline.errors import SqlRunnerError
from sqlrunner.commands import add_command, add_home_argument
from sqlrunner.outputs_file import lake_home


def register(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "connection",
        help="manage the local lake's connections (us.lake-connection)",
        description="Create, delete or list the connections object tables may use locally.",
        examples=(
            "python -m sqlrunner connection create us.lake-connection",
            "python -m sqlrunner connection list --home .lake",
        ),
    )
    parser.add_argument("action", choices=("create", "delete", "list"))
    parser.add_argument("name", nargs="?", help="LOCATION.CONNECTION_ID, e.g. us.lake-connection")
    add_home_argument(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from local_engine.engine import LocalEngine

    if args.action != "list" and not args.name:
        raise SqlRunnerError(f"connection {args.action} needs a name, e.g. us.lake-connection")
    with LocalEngine(lake_home(args.home)) as engine:
        if args.action == "create":
            print(f"connection {engine.create_connection(args.name)} ready")
        elif args.action == "delete":
            engine.drop_connection(args.name)
            print(f"connection {args.name} deleted")
        else:
            for name in engine.connections():
                print(name)
    return 0
