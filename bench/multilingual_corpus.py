"""Load the non-English news of ``../shared/corpus/multilingual`` (see its SOURCES.md) as items.

Each source keeps its own format (RSS, NewsAPI responses saved as JS, a dashboard's data file,
CCTV transcripts in Markdown); this module turns them all into ``CorpusItem`` values with the
same ``source`` + ``key`` scheme as ``bench/rules_quality.py`` (corpus path + sha1(title)[:12]),
plus the language the source is written in. Items repeated across snapshots count once (by
link, else by title): the first file in sorted order is the item's ``source``.

Nothing here is copied into the repository; labels refer to items by source and key only.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from rules_quality import CORPUS, CorpusItem, plain_text, title_key

BASE = "multilingual"
_HANGUL = re.compile("[\uac00-\ud7a3]")
# Per-file language of the sources that mix languages (SOURCES.md: the LIGA, Ukrainska Pravda
# and Ukrainski Novyny stubs are Russian-language editions; UNIAN is Ukrainian).
_STUB_LANGS = {"liga": "ru", "pravda": "ru", "ukranews": "ru", "unian": "uk"}
_NEWSAPI_LANGS = {"news_ru": "ru", "news_jp": "ja", "news_cn": "zh", "news_de": "de", "news_fr": "fr"}
_JS_STRING = r'"(?:[^"\\]|\\.)*"'
_JS_FIELD = re.compile(rf"\b(title|description|url):\s*({_JS_STRING})")
_CCTV_LINK = re.compile(r"\[查看原文\]\([^)]*\)|<!--.*?-->")
_CCTV_LEAD = re.compile(r"\*\*央视网消息\*\*（新闻联播）：")
_BOLD_LINE = re.compile(r"^\*\*(.+)\*\*$")


@dataclass(frozen=True, slots=True)
class LangItem:
    item: CorpusItem
    lang: str  # ISO 639-1 code of the language the item is written in
    link: str


def _lang_item(source: str, lang: str, link: str, title: str, summary: str = "", content: str = "") -> LangItem:
    clean = plain_text(title)
    item = CorpusItem(source, title_key(clean), clean, plain_text(summary), plain_text(content))
    return LangItem(item, lang, link)


def _rss(root: Path, source: str, lang: str, text: bytes | None = None) -> Iterator[LangItem]:
    import feedparser

    body = text if text is not None else (root / source).read_bytes()
    for entry in feedparser.parse(io.BytesIO(body)).entries:
        content = " ".join(part.get("value", "") for part in entry.get("content", []))
        summary = entry.get("summary", "")
        if summary and summary == content:
            content = ""  # feedparser mirrors content into summary; production keeps the summary
        title = entry.get("title", "")
        item_lang = lang
        if lang == "ko" and not _HANGUL.search(title + summary + content):
            item_lang = "en"  # the Korean economic feeds carry a few English items
        yield _lang_item(source, item_lang, entry.get("link", ""), title, summary, content)


def _korean(root: Path) -> Iterator[LangItem]:
    for folder in ("akngs_knews-rss", "terajh_tera-rss"):
        for path in sorted((root / BASE / folder).rglob("*.xml")):
            yield from _rss(root, path.relative_to(root).as_posix(), "ko")


def _stubs(root: Path) -> Iterator[LangItem]:
    for path in sorted((root / BASE / "Tehtehteh_data-import").rglob("*.xml")):
        name = path.stem.removeprefix("stub_").removesuffix("_rss")
        yield from _rss(root, path.relative_to(root).as_posix(), _STUB_LANGS[name])


def _le_monde(root: Path) -> Iterator[LangItem]:
    path = root / BASE / "Drilio_Carousel-Angular/my-app/src/app/carousel/data.ts"
    if path.is_file():
        text = path.read_text(encoding="utf-8")
        xml = text[text.index("`") + 1 : text.rindex("`")]
        yield from _rss(root, path.relative_to(root).as_posix(), "fr", xml.encode("utf-8"))


def _newsapi(root: Path) -> Iterator[LangItem]:
    for path in sorted((root / BASE / "andrewfromtver_news_ag").rglob("news_*.js")):
        text = path.read_text(encoding="utf-8")
        data = json.loads(text[text.index("{") : text.rindex("}") + 1])
        for article in data.get("articles", []):
            source = path.relative_to(root).as_posix()
            title = article.get("title") or ""
            yield _lang_item(source, _NEWSAPI_LANGS[path.stem], article.get("url") or "", title,
                             article.get("description") or "")  # fmt: skip


def _js_literal(root: Path) -> Iterator[LangItem]:
    """A NewsAPI response written as a JS object literal (unquoted keys): fields read in order."""
    path = root / BASE / "Dloed_News/src/components/State/Slicers/IfApiCrashed.js"
    if not path.is_file():
        return
    current: dict[str, str] = {}
    for match in _JS_FIELD.finditer(path.read_text(encoding="utf-8")):
        current[match.group(1)] = json.loads(match.group(2))
        if match.group(1) == "url":
            source = path.relative_to(root).as_posix()
            yield _lang_item(source, "ru", current["url"], current.get("title", ""), current.get("description", ""))
            current = {}


def _dashboard(root: Path) -> Iterator[LangItem]:
    for path in sorted((root / BASE / "torao_doorstep-navi").rglob("data.js")):
        text = path.read_text(encoding="utf-8")
        data = json.loads(text[text.index("{") : text.rindex("}") + 1])
        for article in data.get("news", {}).get("articles", []):
            source = path.relative_to(root).as_posix()
            yield _lang_item(source, "ja", article.get("url") or "", article.get("title") or "")


def _cctv(root: Path) -> Iterator[LangItem]:
    """One item per ``### `` story; the news-in-brief sections split at their bold sub-headlines."""
    for path in sorted((root / BASE / "yuekcc_cctv_news/news").glob("*.md")):
        source = path.relative_to(root).as_posix()
        details = path.read_text(encoding="utf-8").partition("## 详细新闻")[2]
        for section in details.split("\n### ")[1:]:
            heading, _, body = section.partition("\n")
            for title, text in _cctv_stories(heading.strip(), body):
                yield _lang_item(source, "zh", f"{source}#{title}", title, text)


def _cctv_stories(heading: str, body: str) -> Iterator[tuple[str, str]]:
    body = _CCTV_LEAD.sub("", _CCTV_LINK.sub("", body))
    lines = [line.strip() for line in body.splitlines() if line.strip()]
    title, text = heading, []
    for line in lines:
        bold = _BOLD_LINE.match(line)
        if bold is not None and "快讯" in heading:
            if text:
                yield title, " ".join(text)
            title, text = bold.group(1), []
        else:
            text.append(line.replace("**", ""))
    if text:
        yield title, " ".join(text)


def load_multilingual(root: Path = CORPUS) -> list[LangItem]:
    """Every item of the multilingual corpus once, in a fixed order; empty when it is absent."""
    if not (root / BASE).is_dir():
        return []
    seen: set[str] = set()
    items: list[LangItem] = []
    for loader in (_korean, _cctv, _dashboard, _newsapi, _js_literal, _stubs, _le_monde):
        for found in loader(root):
            identity = found.link or f"{found.item.source}#{found.item.key}"
            if identity in seen or not (found.item.title or found.item.summary):
                continue
            seen.add(identity)
            items.append(found)
    return items


if __name__ == "__main__":
    from collections import Counter

    loaded = load_multilingual()
    print(Counter(found.lang for found in loaded))
    print(Counter(found.item.source.split("/")[1] for found in loaded))
