"""Staff roles (bot/staff/roles.py, migration 0002): made and changed with the account
command, shown at login and by GET me, and each change written to the audit log."""
import asyncio
import secrets

import pytest
from aiohttp import web

from bot.errors import Problem
from bot.staff.roles import at_least, require
from tests.support.handoff_clients import PASSWORD, Staff, staff_command


@pytest.fixture
def env(sqlite_url):
    return {"DATABASE_URL": sqlite_url}


def test_each_role_can_do_what_the_one_before_it_can():
    assert at_least("admin", "supervisor") and at_least("supervisor", "supervisor")
    assert not at_least("worker", "supervisor") and not at_least("supervisor", "admin")
    assert not at_least("root", "worker")  # an unknown role can do nothing

    request = {"staff": {"role": "worker"}}
    with pytest.raises(Problem) as refused:
        require(request, "supervisor")  # type: ignore[arg-type]
    assert refused.value.status == 403
    require({"staff": {"role": "admin"}}, "supervisor")  # type: ignore[arg-type]
    assert isinstance(refused.value.response(), web.Response)


async def test_roles_are_set_by_the_account_command_and_shown_to_the_console(gw, env):
    name = f"sup{secrets.token_hex(3)}"
    made = await asyncio.to_thread(staff_command, env, "add", name, "--password-stdin",
                                   "--role", "supervisor", password=PASSWORD)
    assert made.returncode == 0 and "(supervisor)" in made.stdout
    staff = Staff(gw.base)
    assert await staff.login(name) == 200
    status, me = await staff.call("GET", "/staff/api/me")
    assert status == 200 and me["role"] == "supervisor" and me["admin"] is False

    changed = await asyncio.to_thread(staff_command, env, "role", name, "admin")
    assert changed.returncode == 0
    status, me = await staff.call("GET", "/staff/api/me")
    assert me["role"] == "admin" and me["admin"] is True  # at once, in the live session
    assert f"{name} (admin)" in (await asyncio.to_thread(staff_command, env, "list")).stdout
    audit = (await asyncio.to_thread(staff_command, env, "audit")).stdout
    assert f"account_added:{name}:supervisor" in audit and f"role_set:{name}:admin" in audit

    unknown = await asyncio.to_thread(staff_command, env, "role", "nobody-like-this", "admin")
    assert unknown.returncode == 1
    bad = await asyncio.to_thread(staff_command, env, "role", name, "root")
    assert bad.returncode == 2  # argparse refuses a role that doesn't exist
    await staff.close()
