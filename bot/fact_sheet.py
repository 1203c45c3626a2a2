"""The fact sheet (services.yml): the services, numbers and links the assistant gives.

Read once at start-up by the gateway's replies, the web page, the redactor and the
staff console, so that a support organisation changes a number in one place.
"""
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Dict, FrozenSet, List, Optional

import yaml

SERVICES_FILE = Path(__file__).resolve().parent.parent / "services.yml"


@dataclass(frozen=True)
class Service:
    key: str
    name: str
    phone: Optional[str] = None
    text: Optional[str] = None
    number: Optional[str] = None
    web: Optional[str] = None
    email: Optional[str] = None
    hours: Optional[str] = None
    for_whom: Optional[str] = None
    free: bool = False


@dataclass(frozen=True)
class FactSheet:
    services: Dict[str, Service]
    local_forces: List[Dict[str, str]]

    def __getitem__(self, key: str) -> Service:
        return self.services[key]

    def numbers(self) -> FrozenSet[str]:
        """Every phone and text number, as digits only ("116123")."""
        found = {re.sub(r"\D", "", n) for s in self.services.values()
                 for n in (s.phone, s.number) if n}
        return frozenset(found)

    def links(self) -> FrozenSet[str]:
        """Every web address, lower case, without "https://" or "www."."""
        webs = [s.web for s in self.services.values() if s.web]
        webs += [f["web"] for f in self.local_forces if f.get("web")]
        return frozenset(bare_link(w) for w in webs)

    def emails(self) -> FrozenSet[str]:
        return frozenset(s.email.lower() for s in self.services.values() if s.email)

    def names(self) -> List[str]:
        """The services' names as we write them, longest first (for matching)."""
        names = {s.name for s in self.services.values() if s.name[:1].isupper()}
        names |= {f["name"] for f in self.local_forces}
        return sorted(names, key=len, reverse=True)


def bare_link(link: str) -> str:
    """"https://www.Police.uk/x/" -> "police.uk/x": how links are compared."""
    link = re.sub(r"^[a-z]+://", "", link.strip().lower())
    return re.sub(r"^www\.", "", link).rstrip("/")


def on_sheet(link: str, sheet: "FactSheet") -> bool:
    """A link to a service's site, or to a page on it."""
    bare = bare_link(link)
    return any(bare == site or bare.startswith(site + "/") for site in sheet.links())


def load(path: Path = SERVICES_FILE) -> FactSheet:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    services = {}
    for key, fields in raw["services"].items():
        fields = dict(fields)
        fields["for_whom"] = fields.pop("for", None)
        services[key] = Service(key=key, **fields)
    return FactSheet(services=services, local_forces=list(raw.get("local_forces") or []))


@lru_cache(maxsize=None)
def fact_sheet() -> FactSheet:
    """The project's fact sheet, read once."""
    return load()
