"""``edge operator``: the console's accounts — add one, set a PIN, unlock after too many wrong PINs, list."""

from __future__ import annotations

import json
import sys

import click


def _pin(pin_stdin: bool) -> str:
    # A PIN never goes on the command line, where the shell history and `ps` would show it.
    if pin_stdin:
        return sys.stdin.readline().strip()
    return click.prompt("PIN (4 to 8 digits)", hide_input=True, confirmation_prompt=True)


@click.group("operator")
def operator() -> None:
    """Operator accounts of the console (number + PIN)."""


@operator.command("add")
@click.argument("number")
@click.option("--name", required=True, help="The operator's full name, as shown on the console.")
@click.option("--supervisor", is_flag=True, help="May switch training mode on and off.")
@click.option("--pin-stdin", is_flag=True, help="Read the PIN from standard input instead of asking.")
@click.pass_obj
def add(obj, number: str, name: str, supervisor: bool, pin_stdin: bool) -> None:
    """Add an operator account; the PIN is asked for (twice) and stored argon2-hashed."""
    from edge.store import operators

    db = obj.open_db()
    num = operators.parse_number(number)
    pin = _pin(pin_stdin)
    op = operators.add(db, num, name, pin, role="supervisor" if supervisor else "operator", actor="cli")
    click.echo(f"operator {op.number} ({op.name}, {op.role}) added")


@operator.command("set-pin")
@click.argument("number")
@click.option("--pin-stdin", is_flag=True, help="Read the new PIN from standard input instead of asking.")
@click.pass_obj
def set_pin(obj, number: str, pin_stdin: bool) -> None:
    """Give an operator a new PIN (also lifts a lock-out)."""
    from edge.store import operators

    db = obj.open_db()
    num = operators.parse_number(number)
    operators.set_pin(db, num, _pin(pin_stdin), actor="cli")
    click.echo(f"operator {num}: new PIN set")


@operator.command("unlock")
@click.argument("number")
@click.pass_obj
def unlock(obj, number: str) -> None:
    """Lift the lock-out after too many wrong PINs."""
    from edge.store import operators

    db = obj.open_db()
    num = operators.parse_number(number)
    operators.unlock(db, num, actor="cli")
    click.echo(f"operator {num}: unlocked")


@operator.command("list")
@click.pass_obj
def list_operators(obj) -> None:
    """Print the accounts as JSON lines (never the PIN hashes)."""
    from edge.store import operators

    for op in operators.all_operators(obj.open_db()):
        click.echo(json.dumps({"number": op.number, "name": op.name, "role": op.role,
                               "locked_until": op.locked_until}, ensure_ascii=False))
