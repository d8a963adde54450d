"""Random (but seeded) queries and texts for engine-vs-naive equivalence tests."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence

FIELD_NAMES = ("title", "summary", "content")


class QueryGen:
    """Builds random valid query texts over a vocabulary; ``aliases`` names usable as @alias."""

    def __init__(self, rng: random.Random, vocab: Sequence[str], aliases: Sequence[str] = ()) -> None:
        self.rng = rng
        self.vocab = list(vocab)
        self.aliases = list(aliases)

    def word(self) -> str:
        return self.rng.choice(self.vocab)

    def literal(self) -> str:
        rng = self.rng
        roll = rng.random()
        if roll < 0.45:
            text = self.word()
        elif roll < 0.65:
            text = '"' + " ".join(self.word() for _ in range(rng.randint(2, 3))) + '"'
        elif roll < 0.8:
            long_words = [w for w in self.vocab if len(w) >= 4] or ["abcd"]
            text = rng.choice(long_words)[: rng.randint(3, 4)] + "*"
        elif roll < 0.9 and self.aliases:
            return "@" + rng.choice(self.aliases)
        else:
            word = self.word()
            text = "=" + rng.choice([word, word.upper(), word.capitalize()])
        return text

    def positional(self, depth: int) -> str:
        rng = self.rng
        roll = rng.random()
        if depth <= 0 or roll < 0.6:
            return self.literal()
        if roll < 0.8:
            return "(" + " OR ".join(self.positional(depth - 1) for _ in range(2)) + ")"
        if roll < 0.9:
            return f"{rng.choice(FIELD_NAMES)}:{self.literal()}"
        return "(" + self.near(depth - 1) + ")"

    def near(self, depth: int) -> str:
        op = self.rng.choice(["NEAR", "ONEAR"])
        distance = self.rng.choice(["", "/0", "/1", "/2", "/4"])
        return f"{self.positional(depth)} {op}{distance} {self.positional(depth)}"

    def query(self, depth: int = 3) -> str:
        rng = self.rng
        roll = rng.random()
        if depth <= 0 or roll < 0.25:
            return self.literal()
        if roll < 0.45:
            return "(" + " AND ".join(self.query(depth - 1) for _ in range(rng.randint(2, 3))) + ")"
        if roll < 0.6:
            return "(" + " OR ".join(self.query(depth - 1) for _ in range(rng.randint(2, 3))) + ")"
        if roll < 0.72:
            return f"({self.query(depth - 1)} AND NOT {self.query(depth - 1)})"
        if roll < 0.87:
            return self.near(depth - 1)
        return f"{rng.choice(FIELD_NAMES)}:({self.query(depth - 1)})"


def rules_yaml(queries: Sequence[str], aliases: dict[str, list[str]], excludes: dict[int, str]) -> str:
    lines = ["aliases:"] + [f"  {n}: {json.dumps(m)}" for n, m in aliases.items()]
    lines.append("rules:")
    for index, query in enumerate(queries):
        lines += [f"  - id: r{index:05d}", f"    query: {json.dumps(query)}"]
        if index in excludes:
            lines.append(f"    exclude: {json.dumps(excludes[index])}")
    return "\n".join(lines) + "\n"
