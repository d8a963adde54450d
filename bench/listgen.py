"""A synthetic entity list for bench/match.py: 50,000 entries shaped like a sanctions list
(people, companies, vessels with IMO and MMSI numbers), deterministic, no real names."""

from __future__ import annotations

import random

from monitor.lists.entries import schemata_of
from monitor.rules.lists import ListEntry, WatchList

# Given names and corporate words that also occur in news text, so that the list's index is
# reached as often as a real list's would be (Kim, Ali, Trading, Shipping …).
GIVEN = (
    "Ali",
    "Mohammad",
    "Ahmad",
    "Hassan",
    "Kim",
    "Li",
    "Wang",
    "Zhang",
    "Pak",
    "Ri",
    "Choe",
    "Ivan",
    "Sergei",
    "Dmitry",
    "Oleg",
    "Igor",
    "Reza",
    "Hossein",
    "Abdul",
    "Omar",
    "Yusuf",
    "Juan",
    "Carlos",
    "Jose",
    "Maria",
    "Anna",
    "Olga",
    "Elena",
    "Chen",
    "Liu",
    "Jang",
    "Han",
)
CORPORATE = (
    "Trading",
    "Shipping",
    "International",
    "Group",
    "Holdings",
    "Maritime",
    "Petroleum",
    "Energy",
    "Logistics",
    "Industrial",
    "General",
    "Technology",
    "Import",
    "Export",
    "Investment",
    "Development",
    "Commercial",
    "Marine",
    "Oil",
    "Gas",
)
SUFFIXES = ("LLC", "Ltd", "Co", "FZE", "JSC", "Corporation", "Company", "GmbH")
SYLLABLES = (
    "ka",
    "ri",
    "mo",
    "sun",
    "tal",
    "vek",
    "dra",
    "zor",
    "pil",
    "nax",
    "qua",
    "tem",
    "bor",
    "lin",
    "sha",
    "kur",
    "dov",
    "yel",
    "mar",
    "tis",
    "gan",
    "hul",
    "fen",
    "ro",
)


def word(rng: random.Random, parts: int) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(parts)).capitalize()


def entry(rng: random.Random, index: int) -> ListEntry:
    kind = rng.random()
    if kind < 0.5:
        names = (f"{rng.choice(GIVEN)} {word(rng, 2)} {word(rng, 3)}",)
        names += (f"{names[0].split()[2]} {names[0].split()[0]}",) if rng.random() < 0.5 else ()
        return ListEntry(f"b{index}", names[0], "Person", schemata_of("Person"), names)
    if kind < 0.8:
        name = f"{word(rng, 2)} {rng.choice(CORPORATE)} {rng.choice(SUFFIXES)}"
        alias = f"{word(rng, 3)} {rng.choice(CORPORATE)}"
        return ListEntry(f"b{index}", name, "Company", schemata_of("Company"), (name, alias))
    name = f"{word(rng, 2).upper()} {rng.randint(1, 99)}"
    imo, mmsi = f"{rng.randint(9_000_000, 9_999_999)}", f"{rng.randint(200_000_000, 775_999_999)}"
    return ListEntry(f"b{index}", name, "Vessel", schemata_of("Vessel"), (name,), (imo,), (mmsi,))


def synthetic_list(count: int = 50_000, seed: int = 11) -> WatchList:
    rng = random.Random(seed)
    return WatchList("bench", f"synthetic-{count}-{seed}", tuple(entry(rng, i) for i in range(count)))
