"""The redactor on its own: what it hides, and what it must leave alone so that
the assistant still understands the person. Recall and precision per kind on the
labelled sets are reported by `make redaction` (part of `make test`)."""
import pytest

from bot.conversation.redaction import Redactor, load_redactor
from bot.fact_sheet import fact_sheet
from tests.conftest import DATA


@pytest.fixture(scope="module")
def redactor():
    return load_redactor()


@pytest.fixture(scope="module")
def redact(redactor):
    return redactor.redact


@pytest.mark.parametrize("text, expected", [
    ("my names ryan and my number is 07700 900123",
     "my names [NAME] and my number is [PHONE]"),
    ("text me on +44 (0)7700-900-456 or ryan.k99@hotmail.co.uk",
     "text me on [PHONE] or [EMAIL]"),
    ("he wants it sent to paypal.me/kingd4490 tonight", "he wants it sent to [URL] tonight"),
    ("his snap is jayy_x2007", "his snap is [HANDLE]"),
    ("i live at 14 elm road NN1 1AA", "i live at [ADDRESS] [POSTCODE]"),
    ("sort code 20-00-00 acc 55779911", "sort code [BANK] acc [BANK]"),
    ("card 4539 1488 0343 6467", "card [CARD]"),
    ("he said he'd send them to my sister chloe", "he said he'd send them to my sister [NAME]"),
])
def test_personal_data_becomes_a_placeholder(redact, text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize("text, expected", [
    # A lower-case surname after a first name the word lists caught, even when it is
    # also a (rarer) English word.
    ("i am chloe quince", "i am [NAME]"),
    ("my name is priya quince and he has my pics", "my name is [NAME] and he has my pics"),
    ("hi im amara moss, he wants money", "hi im [NAME], he wants money"),
    ("its jake birch here", "its [NAME] here"),
    ("my sister chloe pemberton has them", "my sister [NAME] has them"),
    # What the assistant reads after a name is no surname: crisis words, the services,
    # everyday words, ages.
    ("i am sam and i want to die", "i am [NAME] and i want to die"),
    ("i'm priya hang myself tonight", "i'm [NAME] hang myself tonight"),
    ("i'm tom childline said to come here", "i'm [NAME] childline said to come here"),
    ("i'm chloe papyrus told me to talk to you", "i'm [NAME] papyrus told me to talk to you"),
    ("i'm tom victim support said to ring them", "i'm [NAME] victim support said to ring them"),
    ("im chloe samaritans gave me this", "im [NAME] samaritans gave me this"),
    ("i'm chloe scared he will post them", "i'm [NAME] scared he will post them"),
    ("im priya fifteen and he wants money", "im [NAME] fifteen and he wants money"),
    ("my sister chloe said he posted them", "my sister [NAME] said he posted them"),
    ("my ex jake arrived at my house", "my ex [NAME] arrived at my house"),
    ("ur boy jake gonna love this", "ur boy [NAME] gonna love this"),
])
def test_a_surname_after_a_first_name_goes_with_it(redact, text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize("text", [
    "he wants £300 by 9pm tonight or he posts them",
    "im 15 and in year 10",
    "should i call 999 or 101",
    "i rang samaritans on 116 123 and texted shout to 85258",
    "childline is 0800 1111 right?",
    "he found me on Snapchat and then Instagram",
    "I dont know what to do. Please help me",
    "i want to kill myself",
    "he says hes going to send it to my mum and dad and my whole school",
    "OMG HE SENT IT TO MY FRIENDS",
    "I'm doing my GCSEs and I'm in Year 10",
])
def test_what_the_assistant_needs_is_left_alone(redact, text):
    assert redact(text) == text


def test_the_crisis_words_are_never_hidden(redact):
    """The crisis safety net reads the redacted text: "how to hang myself" must not
    become "how to [NAME] myself" because Hang is also a name."""
    import re
    from collections import Counter

    import yaml

    from bot.conversation.redaction import crisis_words

    watched = crisis_words()
    assert {"hang", "pills", "bridge", "kms"} <= watched
    sets = sorted(DATA.glob("crisis_*.yml"))
    texts = [t for s in sets for part in yaml.safe_load(s.read_text()).values() for t in part]
    assert len(texts) > 400

    def words(text):
        return Counter(w for w in re.findall(r"[a-z']+", text.lower()) if w in watched)

    lost = [text for text in texts if words(redact(text)) != words(text)]
    assert lost == []


@pytest.mark.parametrize("pattern", ["1", "1 ", "1-", "(1)", "a.", "a_", "x at y dot ", "12 a b c "])
def test_hostile_text_cannot_stall_redaction(redact, pattern):
    """Redaction runs on one thread for every chat: a message built to make a
    regular expression backtrack ("1111…1a" once took days) must finish quickly.
    The bound is loose on purpose: the failure it guards against is exponential."""
    import time

    text = (pattern * 2000)[:1999] + "a"
    started = time.monotonic()
    redact(text)
    assert time.monotonic() - started < 10


def said_by_staff():
    """A support worker giving each number, link and email on the fact sheet, as
    written there and as people type them."""
    sheet = fact_sheet()
    for service in sheet.services.values():
        for number in filter(None, (service.phone, service.number)):
            yield f"You can call {service.name} on {number}"
            yield f"or ring {number.replace(' ', '')} any time"
        if service.web:
            site = service.web.removeprefix("www.")
            yield f"{service.name}: {site}"
            yield f"Go to https://www.{site}/ and follow the steps"
            yield f"It's on http://{site}/help/what-to-do-next, {service.name}"
        if service.email:
            yield f"Or email {service.name} at {service.email}"
    for force in sheet.local_forces:
        yield f"Report it to {force['name']} at {force['web']}"


@pytest.mark.parametrize("said", list(said_by_staff()))
def test_the_services_on_the_fact_sheet_are_sent_as_typed(redact, said):
    """A support worker must be able to give a service's number, link or email;
    everything else in the same message is still hidden."""
    assert redact(said) == said
    mine = " Or text me on 07700 900123, I'm Sarah, sarah.k99@hotmail.co.uk"
    assert redact(said + "." + mine) == said + ". Or text me on [PHONE], I'm [NAME], [EMAIL]"


@pytest.mark.parametrize("text, expected", [
    ("call Victim Support on 08 08 16 89 111, or ring me on 07700 900123, I'm Sarah",
     "call Victim Support on 08 08 16 89 111, or ring me on [PHONE], I'm [NAME]"),
    ("i rang childline on 0800 1111 and papyrus on 0800-068-4141",
     "i rang childline on 0800 1111 and papyrus on 0800-068-4141"),
    ("I'm Sarah from Victim Support", "I'm [NAME] from Victim Support"),
    ("help@nspcc.org.uk or his snap jayy_x2007", "help@nspcc.org.uk or his snap [HANDLE]"),
])
def test_only_the_services_pass(redact, text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize("text, expected", [
    # A number passes only as a whole run of digits: no mobile number rides on one.
    ("0800 11117700900123", "[CARD]"),
    ("116 123 07700 900123", "[CARD]"),
    ("0800 1111 07700 900123", "[CARD]"),
    # A link or email passes only whole: not as part of a longer one.
    ("email sarah@childline.org.uk", "email [EMAIL]"),
    ("sarah.help@nspcc.org.uk", "[EMAIL]"),
    ("childline.org.uk@gmail.com", "[EMAIL]"),
    ("his snap is jake_m07.childline.org.uk", "his snap is [HANDLE]"),
    ("go to sarah.childline.org.uk", "go to [URL]"),
    ("go to childline.org.uk.pay-me.com/now", "go to [URL]"),
])
def test_the_fact_sheet_cannot_carry_personal_data_past(redact, text, expected):
    assert redact(text) == expected


def test_the_fact_sheet_is_the_only_list_of_services(redactor, tmp_path):
    """The redactor lets through what the fact sheet lists, nothing typed in itself."""
    from bot.fact_sheet import load

    sheet = tmp_path / "services.yml"
    sheet.write_text("services:\n  line:\n    name: Example Line\n    phone: 0800 000 1234\n"
                     "    web: example-line.org.uk\n")
    text = "call Example Line on 0800 000 1234 or see example-line.org.uk"
    hidden = redactor.redact(text)
    assert "0800" not in hidden and "example-line" not in hidden
    own = Redactor(redactor.nlp, sheet=load(sheet))
    assert own.redact(text) == text
    assert own.redact("Childline is 0800 1111") == "Childline is [BANK]"
