"""Staff accounts' passwords (bot/staff/auth.py) and the console page the staff see
(bot/staff/api.py render_console): functions on their own, no server."""
from bot.staff.auth import hash_password, password_matches


def test_passwords_are_stored_as_salted_scrypt_hashes():
    first, second = hash_password("a long passphrase"), hash_password("a long passphrase")
    assert first != second and first.startswith("scrypt$") and "passphrase" not in first
    assert password_matches("a long passphrase", first)
    assert not password_matches("a long passphrasE", first)
    assert not password_matches("anything", "not-a-hash")


def test_the_console_lists_every_service_a_worker_can_give_from_the_fact_sheet():
    """The console reads the fact sheet: each service's number, link and email,
    which the redactor lets through a worker's reply."""
    from bot.fact_sheet import fact_sheet
    from bot.staff.api import render_console

    page = render_console(fact_sheet())
    assert "__SERVICES__" not in page
    for service in fact_sheet().services.values():
        for detail in (service.phone, service.text, service.web, service.email):
            if detail:
                assert detail in page, (service.key, detail)
    assert "weekdays" in page  # the Revenge Porn Helpline's hours, so nobody gives it at night
