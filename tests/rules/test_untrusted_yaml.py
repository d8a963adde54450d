"""YAML from files (the configuration and rule files) is read in bounded time and memory: anchor
bombs, deep nesting, self-referencing aliases, devices and huge files are refused with file:line
errors, and a key given twice is an error instead of the second silently replacing the first."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from bounded import LOAD_RULES, PEAK_MEMORY_MB, anchor_bomb, run_bounded

from monitor.config import ConfigError, load_settings
from monitor.opml import OpmlFeed, merge_into_config_yaml
from monitor.rules import RuleLoadError, compile_text, load_rules
from monitor.yamlsource import MAX_YAML_BYTES, MAX_YAML_DEPTH, YAML_ALIAS_BUDGET

LOAD_CONFIG = """
import sys
from pathlib import Path
from monitor.config import ConfigError, load_settings
from monitor.opml import OpmlFeed, merge_into_config_yaml
try:
    load_settings(Path(sys.argv[1]), {})
except ConfigError as exc:
    print(exc)
"""


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def config_errors(path: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings(path, {})
    return str(caught.value)


@pytest.mark.timeout(5)
def test_a_config_anchor_bomb_is_refused_at_its_line_in_little_memory(tmp_path: Path) -> None:
    bomb = write(tmp_path / "monitor.yaml", anchor_bomb(top="feeds: []"))
    assert bomb.stat().st_size < 600  # like the 552-byte file: 9**9 values once expanded
    run = run_bounded(LOAD_CONFIG, str(bomb))
    assert run.output == f"{bomb}:6: aliases (*d) expand to more than {YAML_ALIAS_BUDGET:,} nodes"
    assert run.peak_mb < PEAK_MEMORY_MB


@pytest.mark.timeout(5)
def test_a_rule_file_anchor_bomb_is_refused_at_its_line_and_column_in_little_memory(tmp_path: Path) -> None:
    bomb = write(tmp_path / "bomb.yaml", anchor_bomb(top="rules: []"))
    run = run_bounded(LOAD_RULES, str(bomb))
    assert f"{bomb}:6:8: aliases (*d) expand to more than {YAML_ALIAS_BUDGET:,} nodes" in run.output
    assert run.peak_mb < PEAK_MEMORY_MB


@pytest.mark.timeout(5)
def test_anchors_within_the_budget_still_work(tmp_path: Path) -> None:
    config = write(
        tmp_path / "monitor.yaml",
        """
fetch: &fetch {read_timeout: 7s}
feeds:
  - {url: "https://a.example/rss", tags: &wire [wire, arms]}
  - {url: "https://b.example/rss", tags: *wire}
""",
    )
    settings = load_settings(config, {})
    assert [feed.tags for feed in settings.feeds] == [("wire", "arms"), ("wire", "arms")]
    rules = compile_text("aliases:\n  a: &x [Pyongyang, DPRK]\n  b: *x\nrules:\n  - {id: r, query: '@b AND arms'}\n")
    assert rules.match({"title": "DPRK arms"})


@pytest.mark.timeout(5)
def test_a_key_given_twice_is_an_error_naming_both_lines(tmp_path: Path) -> None:
    twice = write(
        tmp_path / "monitor.yaml",
        "feeds:\n  - url: https://a.example/rss\ninterval: 5m\nfeeds:\n  - url: https://b.example/rss\n",
    )
    assert config_errors(twice) == f'{twice}:4: duplicate key "feeds" (first at line 1)'
    nested = write(tmp_path / "nested.yaml", "feeds:\n  - url: https://a.example/rss\n    url: https://b.example/rss\n")
    assert config_errors(nested) == f'{nested}:3: duplicate key "url" (first at line 2)'


@pytest.mark.timeout(5)
def test_merge_keys_may_be_overridden(tmp_path: Path) -> None:
    config = write(
        tmp_path / "monitor.yaml",
        """
fetch: &base {read_timeout: 7s, deadline: 30s}
feeds:
  - url: https://a.example/rss
health: {failures: 3}
alerts:
  <<: {max_attempts: 4, batch: 10}
  batch: 20
""",
    )
    assert load_settings(config, {}).alerts.batch == 20


@pytest.mark.timeout(5)
def test_deep_nesting_is_refused_before_anything_recurses(tmp_path: Path) -> None:
    deep = write(tmp_path / "monitor.yaml", "feeds: " + "[" * 100 + "]" * 100 + "\n")
    assert config_errors(deep) == f"{deep}:1: nested more than {MAX_YAML_DEPTH} levels deep"
    deeper = write(tmp_path / "deeper.yaml", "feeds: " + "[" * 5000 + "]" * 5000 + "\n")  # libyaml stops first
    assert config_errors(deeper) == f"{deeper}:1: invalid YAML: exceeded maximum nesting depth"
    rules = write(tmp_path / "deep.yaml", "rules:\n" + "".join("  " * n + "- \n" for n in range(1, 200)))
    with pytest.raises(RuleLoadError, match=rf"deep.yaml:\d+:\d+: nested more than {MAX_YAML_DEPTH} levels deep"):
        load_rules([rules])


@pytest.mark.timeout(5)
def test_an_alias_inside_its_own_collection_is_refused(tmp_path: Path) -> None:
    loop = write(tmp_path / "monitor.yaml", "feeds: &f\n  - url: https://a.example/rss\n  - *f\n")
    assert config_errors(loop) == f"{loop}:3: alias *f refers to a collection that contains it"


@pytest.mark.timeout(5)
def test_devices_folders_and_huge_files_are_refused_without_reading_them(tmp_path: Path) -> None:
    assert config_errors(Path("/dev/zero")) == "/dev/zero:1: cannot read file: not a regular file"
    assert config_errors(tmp_path) == f"{tmp_path}:1: cannot read file: not a regular file"
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)  # opening it would wait for a writer forever
    assert config_errors(fifo) == f"{fifo}:1: cannot read file: not a regular file"
    huge = write(tmp_path / "huge.yaml", "# " + "x" * MAX_YAML_BYTES + "\n")
    assert config_errors(huge) == f"{huge}:1: cannot read file: larger than {MAX_YAML_BYTES:,} bytes"


@pytest.mark.timeout(5)
def test_merging_imported_feeds_reads_the_configuration_the_same_way() -> None:
    # `feeds import` compares the configuration before and after its edit: minutes on a 10-level bomb
    feed = OpmlFeed(url="https://a.example/rss", name="A", tags=())
    with pytest.raises(ValueError, match=r"the configuration:6: aliases \(\*d\) expand to more than"):
        merge_into_config_yaml(anchor_bomb(top="feeds: []"), [feed])
    with pytest.raises(ValueError, match='the configuration:2: duplicate key "feeds"'):
        merge_into_config_yaml("feeds: []\nfeeds: []\n", [feed])
