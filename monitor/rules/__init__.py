"""Watch rules: parse, compile and match Boolean/proximity queries against item text.

Pure apart from ``read_rules``/``load_rules`` (read files). See docs/rules.md for the rule language.
"""

from monitor.rules.compile import compile_rules, compile_text
from monitor.rules.errors import RuleError, RuleLoadError
from monitor.rules.explain import ExplainNode, Explanation
from monitor.rules.loader import LoadedRules, load_rules, read_rules
from monitor.rules.model import REALERT_CHOICES, Rule
from monitor.rules.ruleset import RuleSet
from monitor.rules.source import RuleFile, parse_rule_text
from monitor.types import RuleMatch, Severity, Span

__all__ = [
    "REALERT_CHOICES",
    "ExplainNode",
    "Explanation",
    "LoadedRules",
    "Rule",
    "RuleError",
    "RuleFile",
    "RuleLoadError",
    "RuleMatch",
    "RuleSet",
    "Severity",
    "Span",
    "compile_rules",
    "compile_text",
    "load_rules",
    "parse_rule_text",
    "read_rules",
]
