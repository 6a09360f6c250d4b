"""Rulebooks: the rules as data. The MLE-bench rulebook ships as `mle-bench.toml`."""

from rules.load import RulebookError, load_rulebook
from rules.schema import Policy, Rule, Rulebook

__all__ = ["Policy", "Rule", "Rulebook", "RulebookError", "load_rulebook"]
