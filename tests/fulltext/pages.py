"""Article pages for the full-text tests: real saved pages from the trafilatura test corpus
(served by path from ../shared/corpus, never copied here) and hostile pages written here."""

from __future__ import annotations

from pathlib import Path

CACHE = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus" / "adbar_trafilatura" / "tests" / "cache"

# (saved page, teaser title, teaser summary, rule query): the title holds the rule's rarest
# word, the rest of the evidence is only in the article body.
CORPUS_TEASERS = (
    ("reuters.com.parasite.html", "Parasite does it again", "At the awards.", "parasite AND (oscar* OR guild)"),
    ("theguardian.com.academics.html", "Casualised staff report", "Read the report.", "casualised AND universities"),
    ("dw.com.colonial.html", "Colonialism project launched", "A plan.", "colonialism AND (berlin OR streets)"),
    ("nature.com.telescope.html", "Telescope opens its doors", "Researchers welcome.", "telescope AND astronomers"),
    ("salon.com.emissions.html", "Emissions estimate is in", "Last year's figure.", "emissions AND pollution"),
    ("threatpost.com.android.html", "New ransomware warning", "Be careful with links.", "ransomware AND android"),
)

# The evidence of a sanctions breach only in the body, buried in the kind of markup that breaks
# extractors: scripts and styles holding rule words (they must not count), a navigation menu,
# comments, an unclosed tag soup, entities and an entity declaration in the DOCTYPE.
HOSTILE_ARTICLE = """<!DOCTYPE html [<!ENTITY boom "&#x6d;issiles &#x6d;issiles &#x6d;issiles">]>
<html><head><title>Port news</title>
<script>var q = "North Korea artillery shells Russia sanctions"; document.write(q);</script>
<style>.x:after { content: "Pyongyang sends missiles to Moscow"; }</style></head>
<body><nav><ul><li><a href="/">Home</a></li><li><a href="/world">World &amp; more</a></li></ul></nav>
<!-- <p>North Korean missiles shipped to Russia</p> -->
<div class="article"><h1>Cargo ships seen at Rajin again</h1>
<p>Satellite images taken this week show two cargo ships at the port of Rajin. Analysts who
studied the images said the vessels were loaded with containers of <b>artillery shells</b>
bound for the Russian port of Vostochny, a route used repeatedly since 2023.</p>
<p>North Korea has denied the transfers, but a panel of experts said the shipments violated UN
sanctions under Security Council resolution 2270 and later resolutions.<span><i><b>
</p><p>&boom; Officials in Moscow declined to comment on the <em>deliveries</em>.</p>
<table><tr><td>Advertisement: Russia North Korea missiles</td></tr></table>
</div><footer>© Example News &nbsp; North Korea Russia missiles sanctions</footer></body></html>
"""

# Nothing but markup: no main text to find.
EMPTY_ARTICLE = "<html><body>" + "<div>" * 5_000 + "</div>" * 5_000 + "</body></html>"


def corpus_page(name: str) -> bytes:
    return (CACHE / name).read_bytes()
