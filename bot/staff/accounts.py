"""Staff accounts for the console, in the gateway's store (DATABASE_URL):

    .venv/bin/python -m bot.staff add USERNAME --password-stdin [--role worker|supervisor|admin] [--admin]
    .venv/bin/python -m bot.staff role USERNAME ROLE
    .venv/bin/python -m bot.staff list
    .venv/bin/python -m bot.staff disable USERNAME     (also ends their sessions)
    .venv/bin/python -m bot.staff audit [--limit N]    (who did what, newest first)

Without --password-stdin, `add` asks for the password twice at the terminal.
"""
import argparse
import asyncio
import getpass
import re
import sys
from typing import List, Optional

from bot.settings import Settings
from bot.staff.auth import hash_password
from bot.staff.roles import ROLES
from bot.store import Store

USERNAME = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
MIN_PASSWORD = 12


def read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Again: "):
        raise SystemExit("The two passwords differ.")
    return first


async def run(args: argparse.Namespace) -> int:
    store = Store(Settings.from_env().database_url)
    try:
        if args.command == "add":
            if not USERNAME.fullmatch(args.username):
                print("A username is 1-64 letters, digits, '.', '_' or '-'.", file=sys.stderr)
                return 2
            password = read_password(args.password_stdin)
            if len(password) < MIN_PASSWORD:
                print(f"Use a password of at least {MIN_PASSWORD} characters.", file=sys.stderr)
                return 2
            role = "admin" if args.admin else args.role
            if not await store.add_staff(args.username, hash_password(password), role):
                print(f"There is already an account called {args.username}.", file=sys.stderr)
                return 1
            await store.audit("(command line)", f"account_added:{args.username}:{role}")
            print(f"Added {args.username} ({role}).")
        elif args.command == "role":
            if not await store.set_staff_role(args.username, args.role):
                print(f"No account called {args.username}.", file=sys.stderr)
                return 1
            await store.audit("(command line)", f"role_set:{args.username}:{args.role}")
            print(f"{args.username} is now a {args.role}.")
        elif args.command == "list":
            for member in await store.list_staff():
                print(member["username"], f"({member['role']})", *(["(disabled)"] if member["disabled"] else []))
        elif args.command == "disable":
            if not await store.disable_staff(args.username):
                print(f"No account called {args.username}.", file=sys.stderr)
                return 1
            await store.audit("(command line)", f"account_disabled:{args.username}")
            print(f"Disabled {args.username}; their console sessions have ended.")
        elif args.command == "audit":
            for entry in await store.audit_log(args.limit):
                print(entry["at"], entry["staff"], entry["action"], entry["conversation"] or "")
        return 0
    finally:
        await store.close()


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.staff", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add", help="make an account")
    add.add_argument("username")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    add.add_argument("--role", choices=ROLES, default="worker",
                     help="worker (default), supervisor (sees the whole shift) or admin (also accounts, insights)")
    add.add_argument("--admin", action="store_true", help="the same as --role admin")
    role = commands.add_parser("role", help="set an account's role")
    role.add_argument("username")
    role.add_argument("role", choices=ROLES)
    commands.add_parser("list", help="list accounts")
    disable = commands.add_parser("disable", help="disable an account")
    disable.add_argument("username")
    audit = commands.add_parser("audit", help="print the audit log")
    audit.add_argument("--limit", type=int, default=200)
    return asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
