"""`monitor rules check | test | explain | backtest`."""

import asyncio
import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from monitor.cli.common import (
    ConfigOption,
    fail,
    rules_or_exit,
    settings_or_exit,
    since_option,
    store_or_exit,
    stored_lists,
    warn_skipped,
)
from monitor.config import ConfigError, config_path, load_settings
from monitor.fetch import Fetcher, FetchSettings
from monitor.langid import item_language
from monitor.parse import FeedParseError, parse_feed
from monitor.rules import Rule, RuleLoadError, RuleSet, read_rules
from monitor.rules.consistency import check_rules
from monitor.runtime import configured_names, utc_now
from monitor.store import Store
from monitor.types import ConditionalState, RuleMatch

app = typer.Typer(help="Validate, try out and backtest watch rules.", no_args_is_help=True)

RulesDirOption = Annotated[
    list[Path] | None,
    typer.Option("--rules-dir", "--rules", help="Rule folder or file (default: from config)."),
]
FeedOption = Annotated[
    str | None, typer.Option("--feed", help="Feed name the items come from (for rules with feeds:).")
]
FeedTagOption = Annotated[list[str] | None, typer.Option("--feed-tag", help="A tag of that feed; repeatable.")]
LangOption = Annotated[
    str | None, typer.Option("--lang", help="The items' language for lang: scopes (default: detected).")
]


@dataclass(frozen=True, slots=True)
class TestItem:
    id: str
    title: str
    summary: str
    content: str = ""

    def fields(self) -> dict[str, str]:
        return {"title": self.title, "summary": self.summary, "content": self.content}


def _require_rule(ruleset: RuleSet, rule_id: str) -> None:
    try:
        ruleset.rule(rule_id)
    except KeyError:
        fail(f"no rule with id {rule_id!r}")


def _rule_paths(rules_dir: list[Path] | None, config: Path | None) -> tuple[Path, ...]:
    if rules_dir:
        return tuple(rules_dir)
    return settings_or_exit(config, sends=False).rule_paths


@app.command()
def check(config: ConfigOption = None, rules_dir: RulesDirOption = None) -> None:
    """Validate every rule file; exit 1 with file:line:col messages on errors."""
    paths = _rule_paths(rules_dir, config)
    try:
        loaded = read_rules(paths, stored_lists(config))
    except RuleLoadError as exc:
        typer.echo(str(exc), err=True)
        typer.echo(f"{len(exc.errors)} error(s)", err=True)
        raise typer.Exit(1) from exc
    warn_skipped(loaded)
    rules = loaded.rules.rules
    _check_against_config(rules, config, explicit_rules=bool(rules_dir))
    enabled = sum(1 for rule in rules if rule.enabled)
    where = ", ".join(map(str, paths)) or "no rule files (rules: [] in the configuration)"
    typer.echo(f"ok: {len(rules)} rules ({enabled} enabled) in {where}")


def _check_against_config(rules: tuple[Rule, ...], config: Path | None, *, explicit_rules: bool) -> None:
    """Feeds and channels the rules name must exist (errors, exit 1); a past muted_until and the
    retired realert key are warnings. With --rules-dir and no readable configuration, skipped."""
    path = config_path(config, os.environ)
    try:
        settings = load_settings(path, os.environ, channel_secrets=False)
    except ConfigError:
        if not explicit_rules:
            raise
        if path.exists():  # with --rules-dir, a missing configuration is normal
            typer.echo(f"note: {path} is invalid: feeds and channels named by the rules not checked", err=True)
        return
    found = check_rules(rules, configured_names(settings), utc_now().date())
    for warning in found.warnings:
        typer.echo(f"warning: {warning}", err=True)
    if found.errors:
        for error in found.errors:
            typer.echo(str(error), err=True)
        typer.echo(f"{len(found.errors)} error(s) against {path}", err=True)
        raise typer.Exit(1)


@app.command("test")
def test_rules(
    text: Annotated[str | None, typer.Option(help="Text to test (as an item summary).")] = None,
    file: Annotated[Path | None, typer.Option(help="A feed file (RSS/Atom) or JSONL of items.")] = None,
    url: Annotated[str | None, typer.Option(help="Fetch this feed URL and test its items.")] = None,
    title: Annotated[str, typer.Option(help="Title to go with --text.")] = "",
    output: Annotated[str, typer.Option("--format", help="text or json.")] = "text",
    only_matches: Annotated[bool, typer.Option("--only-matches", help="Hide items with no match.")] = False,
    explain_rule: Annotated[
        str | None, typer.Option("--explain", help="Also show why this rule does or does not match each item.")
    ] = None,
    feed: FeedOption = None,
    feed_tag: FeedTagOption = None,
    lang: LangOption = None,
    config: ConfigOption = None,
    rules_dir: RulesDirOption = None,
) -> None:
    """Show which rules match a text, a feed file, a JSONL file or a feed URL."""
    if sum(x is not None for x in (text, file, url)) != 1:
        fail("give exactly one of --text, --file or --url")
    if output not in ("text", "json"):
        fail("--format must be text or json")
    ruleset = rules_or_exit(_rule_paths(rules_dir, config), config=config)
    if explain_rule is not None:
        _require_rule(ruleset, explain_rule)
    if text is not None:
        items: list[TestItem] = [TestItem("text", title, text)]
    elif file is not None:
        items = list(_items_from_file(file))
    else:
        items = _items_from_url(url or "")
    tags = tuple(feed_tag or ())
    for item in items:
        item_lang = lang or item_language(item.title, item.summary, item.content)
        matches = ruleset.match(item.fields(), feed_name=feed, feed_tags=tags, lang=item_lang)
        if only_matches and not matches:
            continue
        why = None
        if explain_rule is not None:
            explanation = ruleset.explain(explain_rule, item.fields(), feed_name=feed, feed_tags=tags, lang=item_lang)
            why = explanation.render()
        typer.echo(_json_line(item, matches, why) if output == "json" else _text_block(item, matches, why))


def _json_line(item: TestItem, matches: tuple[RuleMatch, ...], why: str | None) -> str:
    extra = {} if why is None else {"explanation": why}
    return json.dumps(
        {
            "id": item.id,
            "title": item.title,
            "rules": [match.rule_id for match in matches],
            "matches": [
                {
                    "rule_id": m.rule_id,
                    "severity": str(m.severity),
                    "matched": list(m.matched_words),
                    "spans": [asdict(span) for span in m.spans],
                    "snippet": m.snippet,
                }
                for m in matches
            ],
            **extra,
        },
        ensure_ascii=False,
    )


def _text_block(item: TestItem, matches: tuple[RuleMatch, ...], why: str | None) -> str:
    lines = [f"{item.id}: {item.title or item.summary[:80]}"]
    if not matches:
        lines.append("  (no rule matched)")
    for match in matches:
        lines.append(f"  ✓ {match.rule_id} [{match.severity}]: {', '.join(match.matched_words)}")
        lines.append(f"    {match.snippet}")
    if why is not None:
        lines += ["  " + line for line in why.splitlines()]
    return "\n".join(lines)


def _items_from_file(path: Path) -> Iterator[TestItem]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        fail(f"{path}: cannot read: {exc.strerror}")
    if data.lstrip()[:1] == b"{":
        yield from _items_from_jsonl(path, data)
        return
    try:
        uri = path.resolve().as_uri()
        parsed = parse_feed(data, feed_url=uri, final_url=uri, headers={})
    except FeedParseError as exc:
        fail(f"{path}: {exc}")
    for item in parsed.items:
        yield TestItem(item.key, item.title, item.summary, item.content)


def _items_from_jsonl(path: Path, data: bytes) -> Iterator[TestItem]:
    for number, line in enumerate(data.decode("utf-8", "replace").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record: Any = json.loads(line)
        except json.JSONDecodeError as exc:
            fail(f"{path}:{number}: invalid JSON: {exc.msg}")
        if not isinstance(record, dict):
            fail(f"{path}:{number}: expected an object with id, title, summary")
        yield TestItem(
            str(record.get("id", number)),
            str(record.get("title", "")),
            str(record.get("summary", "")),
            str(record.get("content", "")),
        )


def _items_from_url(url: str) -> list[TestItem]:
    async def fetch() -> list[TestItem]:
        async with Fetcher(FetchSettings()) as fetcher:
            result = await fetcher.fetch(url, ConditionalState())
        if not result.ok or result.body is None:
            fail(f"{url}: {result.error_kind}: {result.error}")
        try:
            parsed = parse_feed(result.body, feed_url=url, final_url=result.final_url, headers=dict(result.headers))
        except FeedParseError as exc:
            fail(f"{url}: {exc}")
        return [TestItem(i.key, i.title, i.summary, i.content) for i in parsed.items]

    return asyncio.run(fetch())


@app.command()
def explain(
    rule_id: Annotated[str, typer.Argument(help="The rule to explain.")],
    text: Annotated[str, typer.Option(help="Text to test (as an item summary).")],
    title: Annotated[str, typer.Option(help="Title to go with --text.")] = "",
    feed: FeedOption = None,
    feed_tag: FeedTagOption = None,
    lang: LangOption = None,
    config: ConfigOption = None,
    rules_dir: RulesDirOption = None,
) -> None:
    """Show why a rule does or does not match a text, branch by branch (and, for text written
    without spaces or in Korean, how it was cut into words)."""
    ruleset = rules_or_exit(_rule_paths(rules_dir, config), config=config)
    _require_rule(ruleset, rule_id)
    fields = {"title": title, "summary": text, "content": ""}
    item_lang = lang or item_language(title, text)
    explanation = ruleset.explain(rule_id, fields, feed_name=feed, feed_tags=tuple(feed_tag or ()), lang=item_lang)
    typer.echo(explanation.render())


@app.command()
def backtest(
    rule: Annotated[str | None, typer.Option("--rule", help="Only this rule id.")] = None,
    since: Annotated[str, typer.Option(help="Stored items newer than this.")] = "30d",
    config: ConfigOption = None,
    rules_dir: RulesDirOption = None,
) -> None:
    """Run the rules as they are now (or a proposed folder) over stored items; send nothing."""
    settings = settings_or_exit(config, sends=False)
    ruleset = rules_or_exit(tuple(rules_dir) if rules_dir else settings.rule_paths, config=config)
    if rule is not None:
        _require_rule(ruleset, rule)
    window = since_option(since) or 0
    cutoff = utc_now() - timedelta(seconds=window)
    store = store_or_exit(settings, read_only=True)  # a backtest changes nothing
    try:
        report = _backtest(store, ruleset, cutoff, rule)
    finally:
        store.close()
    typer.echo(report)


def _backtest(store: Store, ruleset: RuleSet, cutoff: Any, only_rule: str | None) -> str:
    gained: dict[str, list[str]] = {}
    lost: dict[str, list[str]] = {}
    unchanged: dict[str, int] = {}
    checked = 0
    for stored in store.iter_items(since=cutoff):
        checked += 1
        item = stored.item
        # Items stored before languages were detected (migration 0007) have none yet.
        lang = item.lang or item_language(item.title, item.summary, item.content)
        now = {
            m.rule_id
            for m in ruleset.match(item.fields(), feed_name=stored.feed_name, feed_tags=stored.feed_tags, lang=lang)
        }
        before = set(stored.hit_rule_ids)
        label = f"[{stored.feed_name}] {stored.item.title}"
        for rule_id in now | before:
            if only_rule and rule_id != only_rule:
                continue
            if rule_id in now and rule_id not in before:
                gained.setdefault(rule_id, []).append(label)
            elif rule_id in before and rule_id not in now:
                lost.setdefault(rule_id, []).append(label)
            else:
                unchanged[rule_id] = unchanged.get(rule_id, 0) + 1
    lines = [f"checked {checked} stored items (nothing sent, nothing changed)"]
    for rule_id in sorted(set(gained) | set(lost) | set(unchanged)):
        lines.append(
            f"{rule_id}: +{len(gained.get(rule_id, []))} new, "
            f"-{len(lost.get(rule_id, []))} no longer, {unchanged.get(rule_id, 0)} same"
        )
        lines += [f"  + {label}" for label in gained.get(rule_id, [])[:20]]
        lines += [f"  - {label}" for label in lost.get(rule_id, [])[:20]]
    return "\n".join(lines)
