"""Glue Data Quality's rulesets (DQDL) evaluated on a frame: the rules Studio scripts use.

A ruleset is `Rules = [ rule, rule, ... ]`. The rules run locally are RowCount, ColumnCount,
IsComplete, Completeness, ColumnExists, IsUnique and ColumnValues, with the conditions `> >= < <=
= !=`, `between a and b`, `in [...]` (and `not` before either) and `matches "regex"`; any other
rule, a `where` clause or a composite rule is refused by name before anything is evaluated. The
grammar is AWS's open DQDL (awslabs/dqdl, Apache-2.0); the evaluator is this module's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

RULES = ("RowCount", "ColumnCount", "IsComplete", "Completeness", "ColumnExists", "IsUnique", "ColumnValues")
NEEDS_CONDITION = ("RowCount", "ColumnCount", "Completeness", "ColumnValues")
TOKEN = re.compile(r'\s*(?:(?P<string>"(?:[^"\\]|\\.)*")|(?P<number>-?\d+(?:\.\d+)?)|(?P<op>>=|<=|!=|=|>|<)'
                   r'|(?P<punct>[\[\],()=])|(?P<word>[A-Za-z_][A-Za-z0-9_.]*))')


class RulesetError(ValueError):
    """A ruleset that is not DQDL, or that uses a rule the local layer does not evaluate."""


@dataclass(frozen=True)
class Condition:
    op: str  # > >= < <= = != between in matches
    values: tuple = ()
    negated: bool = False

    def holds(self, value) -> bool:
        if value is None:
            return self.negated and self.op in ("in", "=") or self.op == "!="
        result = _compare(self.op, value, self.values)
        return not result if self.negated else result

    def text(self) -> str:
        prefix = "not " if self.negated else ""
        if self.op == "between":
            return f"{prefix}between {self.values[0]} and {self.values[1]}"
        if self.op == "in":
            return f"{prefix}in [{', '.join(_show(v) for v in self.values)}]"
        return f"{prefix}{self.op} {_show(self.values[0])}"


def _show(value) -> str:
    return f'"{value}"' if isinstance(value, str) else f"{value:g}" if isinstance(value, float) else str(value)


def _compare(op: str, value, values: tuple) -> bool:
    if op == "between":
        return values[0] < value < values[1]
    if op == "in":
        return value in values
    if op == "matches":
        return re.fullmatch(values[0], str(value)) is not None
    other = values[0]
    return {">": value > other, ">=": value >= other, "<": value < other, "<=": value <= other,
            "=": value == other, "!=": value != other}[op]


@dataclass(frozen=True)
class Rule:
    kind: str
    columns: tuple[str, ...] = ()
    condition: Condition | None = None
    text: str = ""


@dataclass
class Outcome:
    rule: str
    passed: bool
    reason: str | None = None
    metrics: dict = field(default_factory=dict)


def parse(ruleset: str) -> list[Rule]:
    """The rules of a ruleset; RulesetError names what is not DQDL or not evaluated locally."""
    body = re.sub(r"#[^\n]*", "", ruleset or "")
    match = re.search(r"\bRules\s*=\s*\[(?P<rules>.*)\]", body, re.S)
    if match is None:
        raise RulesetError("a ruleset is `Rules = [ rule, ... ]`, for example Rules = [ ColumnCount > 0 ]")
    rules = []
    for text in _split(match.group("rules")):
        rules.append(_rule(text))
    return rules


def _split(text: str) -> list[str]:
    """The rules between the brackets, split at commas outside brackets, parentheses and strings."""
    parts, depth, current, quoted = [], 0, [], False
    for i, char in enumerate(text):
        if char == '"' and (i == 0 or text[i - 1] != "\\"):
            quoted = not quoted
        elif not quoted and char in "[(":
            depth += 1
        elif not quoted and char in "])":
            depth -= 1
        elif not quoted and char == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    if "".join(current).strip():
        parts.append("".join(current).strip())
    return [p for p in parts if p]


def _rule(text: str) -> Rule:
    tokens = _tokens(text)
    if not tokens:
        raise RulesetError(f"an empty rule in the ruleset: {text!r}")
    if tokens[0] == ("punct", "("):
        raise RulesetError(f"composite rules ({text}) are not evaluated locally: write each rule on its own")
    kind_type, kind = tokens[0]
    if kind_type != "word":
        raise RulesetError(f"a rule starts with its type (RowCount, ColumnValues, ...): {text!r}")
    if kind not in RULES:
        raise RulesetError(f"DQDL rule {kind} is not evaluated locally by `stedi glue run` (it evaluates "
                           f"{', '.join(RULES)}): remove it, or run the job on AWS Glue")
    position = 1
    columns = []
    while position < len(tokens) and tokens[position][0] == "string":
        columns.append(_unquote(tokens[position][1]))
        position += 1
    rest = tokens[position:]
    if any(t == ("word", "where") for t in rest):
        raise RulesetError(f"`where` clauses ({text}) are not evaluated locally")
    if any(t[0] == "word" and t[1] in ("with", "labels", "threshold") for t in rest):
        raise RulesetError(f"rule options after the condition ({text}) are not evaluated locally")
    condition = _condition(rest, text) if rest else None
    expected_columns = {"RowCount": 0, "ColumnCount": 0}.get(kind)
    if expected_columns == 0 and columns:
        raise RulesetError(f"{kind} takes no column: {text!r}")
    if kind not in ("RowCount", "ColumnCount") and not columns:
        raise RulesetError(f'{kind} names a column in double quotes, such as {kind} "email": {text!r}')
    if kind in NEEDS_CONDITION and condition is None:
        raise RulesetError(f"{kind} needs a condition, such as {kind} > 0: {text!r}")
    if kind in ("IsComplete", "ColumnExists", "IsUnique") and condition is not None:
        raise RulesetError(f"{kind} takes no condition: {text!r}")
    return Rule(kind, tuple(columns), condition, " ".join(text.split()))


def _tokens(text: str) -> list[tuple[str, str]]:
    found, position = [], 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = TOKEN.match(text, position)
        if match is None:
            raise RulesetError(f"cannot read the rule {text!r} at {text[position:position + 20]!r}")
        kind = match.lastgroup
        found.append((kind, match.group(kind)))
        position = match.end()
    return found


def _condition(tokens: list[tuple[str, str]], text: str) -> Condition:
    negated = False
    if tokens and tokens[0] == ("word", "not"):
        negated, tokens = True, tokens[1:]
    if not tokens:
        raise RulesetError(f"a condition is missing after `not`: {text!r}")
    kind, value = tokens[0]
    if kind == "op" or (kind == "punct" and value == "="):
        if len(tokens) != 2:
            raise RulesetError(f"one value follows {value}: {text!r}")
        return Condition(value, (_value(tokens[1], text),), negated)
    if (kind, value) == ("word", "between"):
        if len(tokens) != 4 or tokens[2] != ("word", "and"):
            raise RulesetError(f"between takes two values: between 1 and 10 ({text!r})")
        return Condition("between", (_value(tokens[1], text), _value(tokens[3], text)), negated)
    if (kind, value) == ("word", "in"):
        if tokens[1] != ("punct", "[") or tokens[-1] != ("punct", "]"):
            raise RulesetError(f"in takes a list: in [1, 2] ({text!r})")
        items = [t for t in tokens[2:-1] if t != ("punct", ",")]
        return Condition("in", tuple(_value(t, text) for t in items), negated)
    if (kind, value) == ("word", "matches"):
        if len(tokens) != 2 or tokens[1][0] != "string":
            raise RulesetError(f'matches takes a regular expression in double quotes ({text!r})')
        return Condition("matches", (_unquote(tokens[1][1]),), negated)
    raise RulesetError(f"cannot read the condition of {text!r}")


def _value(token: tuple[str, str], text: str):
    kind, value = token
    if kind == "number":
        return float(value) if "." in value else int(value)
    if kind == "string":
        return _unquote(value)
    if kind == "word" and value in ("NULL", "EMPTY", "WHITESPACES_ONLY"):
        raise RulesetError(f"{value} in a list is not evaluated locally ({text!r})")
    raise RulesetError(f"{value!r} is not a number or a quoted string ({text!r})")


def _unquote(text: str) -> str:
    return text[1:-1].replace('\\"', '"').replace("\\\\", "\\")


def evaluate(rules: list[Rule], df) -> list[Outcome]:
    """Each rule's outcome on a DataFrame, from one aggregation over it."""
    from pyspark.sql import functions as F

    names = {c.lower(): c for c in df.columns}
    aggregates = [F.count("*").alias("rows")]
    for i, rule in enumerate(rules):
        column = names.get(rule.columns[0].lower()) if rule.columns else None
        if rule.kind in ("IsComplete", "Completeness") and column:
            aggregates.append(F.count(F.col(f"`{column}`")).alias(f"filled{i}"))
        elif rule.kind == "IsUnique" and column:
            picked = [F.col(f"`{names[c.lower()]}`") for c in rule.columns if c.lower() in names]
            aggregates.append(F.count_distinct(*picked).alias(f"distinct{i}"))
        elif rule.kind == "ColumnValues" and column:
            aggregates.append(F.sum(F.when(~_holds(rule.condition, F.col(f"`{column}`")), 1).otherwise(0))
                              .alias(f"failing{i}"))
    totals = df.agg(*aggregates).first().asDict()
    rows = totals["rows"]
    outcomes = []
    for i, rule in enumerate(rules):
        column = names.get(rule.columns[0].lower()) if rule.columns else None
        if rule.columns and column is None and rule.kind != "ColumnExists":
            outcomes.append(Outcome(rule.text, False, f"Column {rule.columns[0]} does not exist"))
            continue
        outcomes.append(_outcome(rule, i, rows, len(df.columns), totals, column))
    return outcomes


def _outcome(rule: Rule, i: int, rows: int, width: int, totals: dict, column: str | None) -> Outcome:
    if rule.kind == "RowCount":
        return _measured(rule, rows, {"Dataset.*.RowCount": float(rows)})
    if rule.kind == "ColumnCount":
        return _measured(rule, width, {"Dataset.*.ColumnCount": float(width)})
    if rule.kind == "ColumnExists":
        present = column is not None
        return Outcome(rule.text, present, None if present else f"Column {rule.columns[0]} does not exist")
    if rule.kind in ("IsComplete", "Completeness"):
        share = totals[f"filled{i}"] / rows if rows else 1.0
        metrics = {f"Column.{column}.Completeness": share}
        if rule.kind == "Completeness":
            return _measured(rule, share, metrics)
        passed = share == 1.0
        return Outcome(rule.text, passed, None if passed else f"Value: {share:g} does not meet the constraint "
                       "requirement!", metrics)
    if rule.kind == "IsUnique":
        distinct = totals[f"distinct{i}"]
        passed = distinct == rows
        return Outcome(rule.text, passed, None if passed else f"{rows - distinct:,} rows repeat a value",
                       {f"Column.{column}.Uniqueness": distinct / rows if rows else 1.0})
    failing = totals[f"failing{i}"] or 0
    passed = failing == 0
    return Outcome(rule.text, passed, None if passed else f"{failing:,} of {rows:,} rows do not meet the constraint",
                   {f"Column.{column}.Compliance": (rows - failing) / rows if rows else 1.0})


def _measured(rule: Rule, value, metrics: dict) -> Outcome:
    passed = rule.condition.holds(value)
    return Outcome(rule.text, passed, None if passed else f"Value: {value:g} does not meet the constraint requirement!",
                   metrics)


def _holds(condition: Condition, column):
    """The condition as a Spark column expression; a NULL fails it (except != and not in)."""
    from pyspark.sql import functions as F

    op, values = condition.op, condition.values
    if op == "between":
        test = (column > values[0]) & (column < values[1])
    elif op == "in":
        test = column.isin(*values)
    elif op == "matches":
        test = column.cast("string").rlike(f"^(?:{values[0]})$")
    else:
        test = {">": column > values[0], ">=": column >= values[0], "<": column < values[0],
                "<=": column <= values[0], "=": column == values[0], "!=": column != values[0]}[op]
    if condition.negated:
        test = ~test
    lenient = condition.op == "!=" or (condition.negated and condition.op == "in")
    return F.coalesce(test, F.lit(lenient))
