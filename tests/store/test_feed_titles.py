"""Feed names: an unnamed feed is shown by its own title once fetched; its key stays stable."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from store_factories import T0, at, by_notify, item, match, save
from test_migrations import _alembic

from monitor.store import Store
from monitor.types import FeedSpec

URL = "https://127.0.0.1:8443/feeds/world.xml"


def unnamed(url: str = URL, name: str = "127.0.0.1") -> FeedSpec:
    return FeedSpec(url, name, 300, named=False)


def shown(store: Store) -> dict[str, str]:
    return {view.url: view.name for view in store.list_feeds()}


def test_an_unnamed_feed_is_shown_by_its_title_and_matched_by_its_default_name(store: Store) -> None:
    store.sync_feeds([unnamed()], T0)
    assert shown(store) == {URL: "127.0.0.1"}
    job = store.claim_feeds(T0, "w", 60, 1)[0]
    store.set_feed_title(job.id, "  Deutsche\n Welle ")
    assert shown(store) == {URL: "Deutsche Welle"}
    save(store, job.id, [item("a", feed_url=URL)], {"a": [match()]}, by_notify, T0)
    assert store.list_hits()[0].feed_name == "Deutsche Welle"
    # Rules' `feeds:` filters and logs keep the key: the claim and the backtest see the default name.
    assert store.claim_feeds(at(600), "w", 60, 1)[0].name == "127.0.0.1"
    assert [stored.feed_name for stored in store.iter_items()] == ["127.0.0.1"]


def test_the_title_survives_a_restart_and_yields_to_a_configured_name(store: Store) -> None:
    store.sync_feeds([unnamed()], T0)
    feed_id = store.claim_feeds(T0, "w", 60, 1)[0].id
    store.set_feed_title(feed_id, "Deutsche Welle")
    store.sync_feeds([unnamed()], at(1))
    assert shown(store) == {URL: "Deutsche Welle"}
    store.sync_feeds([FeedSpec(URL, "DW", 300)], at(2))
    assert shown(store) == {URL: "DW"}
    store.set_feed_title(feed_id, "Deutsche Welle")  # a named feed keeps its name
    assert shown(store) == {URL: "DW"}
    store.sync_feeds([unnamed()], at(3))  # the name removed again: the default until the next fetch
    assert shown(store) == {URL: "127.0.0.1"}


def test_an_empty_title_changes_nothing(store: Store) -> None:
    store.sync_feeds([unnamed()], T0)
    feed_id = store.claim_feeds(T0, "w", 60, 1)[0].id
    store.set_feed_title(feed_id, "Deutsche Welle")
    store.set_feed_title(feed_id, " \n ")
    assert shown(store) == {URL: "Deutsche Welle"}


def test_shown_names_stay_unique(store: Store) -> None:
    """Stories count their outlets by shown name: two feeds titled "World" are two outlets."""
    other = "https://127.0.0.2/world.xml"
    store.sync_feeds([unnamed(), unnamed(other, "127.0.0.2"), FeedSpec("https://n.example/rss", "Asia", 300)], T0)
    ids = {job.url: job.id for job in store.claim_feeds(T0, "w", 60, 3)}
    store.set_feed_title(ids[URL], "World")
    store.set_feed_title(ids[other], "World")
    store.set_feed_title(ids[other], "World")  # again: stays as it is
    assert shown(store)[URL] == "World"
    assert shown(store)[other] == "World (127.0.0.2)"
    store.set_feed_title(ids[URL], "Asia")  # a configured name is taken too
    assert shown(store)[URL] == "Asia (127.0.0.1)"
    # A feed configured with the name another one shows by title: the title gives way.
    store.sync_feeds(
        [unnamed(), unnamed(other, "127.0.0.2"), FeedSpec("https://n.example/rss", "World (127.0.0.2)", 300)], at(1)
    )
    assert shown(store)[other] == "127.0.0.2"


def test_0006_keeps_the_names_and_downgrades(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'monitor.db'}"
    with Store.open(url) as store:
        store.sync_feeds([unnamed()], T0)
        store.set_feed_title(store.claim_feeds(T0, "w", 60, 1)[0].id, "Deutsche Welle")
    _alembic(url, "downgrade", "0004")
    assert _names(url, "SELECT name FROM feeds") == ["127.0.0.1"]
    _alembic(url, "upgrade", "0006")
    assert _names(url, "SELECT name || '|' || config_name || '|' || named FROM feeds") == ["127.0.0.1|127.0.0.1|1"]
    with Store.open(url) as store:
        store.sync_feeds([unnamed()], at(1))
        assert store.claim_feeds(at(600), "w", 60, 1)[0].name == "127.0.0.1"


def _names(url: str, query: str) -> list[str]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return [str(value) for value in conn.execute(sa.text(query)).scalars()]
    finally:
        engine.dispose()
