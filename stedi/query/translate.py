"""Athena SQL (Trino dialect) to DuckDB SQL, refusing what would give a different answer.

`translate()` parses one Athena statement with sqlglot, checks every table it names against
catalog/tables.toml, resolves every column (sqlglot's `qualify`, with the declared types),
and then walks the tree:

* Functions sqlglot does not know in Trino (so would pass through verbatim and hit a DuckDB
  namesake with other semantics, such as `millisecond`) are refused by name, except a short
  list checked to mean the same in both engines. `format_datetime` is refused with a hint.
* `/` between two integers is integer division in Trino (`bigint / 1000` truncates toward
  zero; division by zero is an error). It becomes DuckDB's `//`, guarded to raise
  "Division by zero" like Trino. A `/` whose operand types cannot be known, or that divides
  decimals (Trino rounds to the operands' scale), is refused rather than guessed.
* `date_diff` counts whole units in Trino; DuckDB's `date_diff` counts unit boundaries, its
  `date_sub` counts whole units: it becomes `date_sub`. `date_add` on a DATE stays a DATE.
  `regexp_extract` with no match is NULL in Trino, '' in DuckDB: guarded. `CAST(double AS
  varchar)` (Trino writes 1.5E0), `typeof` and the estimates `approx_distinct` and
  `approx_percentile` (DuckDB's estimators are not Trino's) are refused.
* `FOR VERSION AS OF` / `FOR TIMESTAMP AS OF` and Athena's `"<table>$snapshots"` /
  `"<table>$history"` become references to relations that the engine creates (TableRef).

The result names unnamed columns `_col0`, `_col1`... as Athena does. Nothing here touches
the stack: the engine turns each TableRef into a DuckDB view.
"""

from __future__ import annotations

import difflib
import fnmatch
import re
from dataclasses import dataclass

from stedi.query import schema
from stedi.query.catalog import Catalog, declared
from stedi.query.errors import QueryError, Untranslatable, at_position
from stedi.tables import lakehouse

# Trino functions sqlglot leaves anonymous whose DuckDB namesake was checked to agree.
SAME_IN_DUCKDB = {"geometric_mean", "json_array_length"}
REFUSAL_HINTS = {
    "format_datetime": "format_datetime uses Java (Joda) patterns that have no faithful DuckDB equivalent; "
    "use date_format(ts, '%Y-%m-%d %H:%i:%s') (MySQL-style patterns), which translates",
    "millisecond": "DuckDB's millisecond() counts the seconds too (0-59999), Trino's does not (0-999)",
}


@dataclass(frozen=True)
class TableRef:
    """A relation the engine must provide in the DuckDB schema named after its database, as `view`."""

    table: str  # the table in the catalog
    view: str
    database: str = ""  # the Glue database (the lakehouse's namespace when the query names none)
    metadata: str | None = None  # "snapshots" or "history": Athena's "<table>$<metadata>"
    version: int | str | None = None  # FOR VERSION AS OF: a snapshot id, or a branch/tag name
    as_of: str | None = None  # FOR TIMESTAMP AS OF: the instant, as a DuckDB expression


@dataclass(frozen=True)
class Translation:
    source: str  # the Athena statement as written
    sql: str  # the DuckDB statement
    refs: tuple[TableRef, ...] = ()


@dataclass(frozen=True)
class Statement:
    sql: str
    line: int  # the line of its first token in the text it came from (1-based)


# ---------------------------------------------------------------- statements of a file


def split_statements(text: str) -> list[Statement]:
    """The `;`-separated statements of a SQL file (semicolons in strings and comments kept)."""
    from sqlglot.errors import TokenError
    from sqlglot.tokens import TokenType

    try:
        tokens = _dialect().tokenize(text)
    except TokenError as error:
        raise QueryError(f"syntax error: {_token_error(error)}") from None
    statements: list[Statement] = []
    current = []
    for token in [*tokens, None]:
        if token is None or token.token_type == TokenType.SEMICOLON:
            if current:
                statements.append(Statement(text[current[0].start : current[-1].end + 1], current[0].line))
            current = []
        else:
            current.append(token)
    return statements


# ---------------------------------------------------------------- translation


def translate(sql: str, *, catalog: Catalog | None = None, line_offset: int = 0, origin: str = "") -> Translation:
    """The DuckDB form of one Athena statement, or a QueryError saying why there is none
    (Untranslatable when Athena would answer it but DuckDB cannot answer it faithfully).

    `catalog`: the tables there are (default: the declared ones); `line_offset` and `origin` place
    error positions in a file (`--file`)."""
    catalog = catalog or declared()
    special = _special_statement(sql, catalog)
    if special is not None:
        return Translation(sql, special)

    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ErrorLevel, ParseError, SqlglotError, TokenError, UnsupportedError

    prefix = f"{origin}: " if origin else ""
    try:
        statements = [s for s in sqlglot.parse(sql, read="trino") if s is not None]
    except ParseError as error:
        raise _syntax_error(error, sql, line_offset, origin) from None
    except TokenError as error:
        raise QueryError(f"{prefix}syntax error: {_token_error(error)}") from None
    if not statements:
        raise QueryError(f"{prefix}the query is empty")
    if len(statements) > 1:
        raise QueryError(f"{prefix}one statement at a time: put several in a file and use --file")
    tree = statements[0]
    if not isinstance(tree, exp.Query):
        kind = sql.strip().split(None, 1)[0].upper() if sql.strip() else "?"
        raise QueryError(f"{prefix}only queries are translated ({kind} is not one): stedi query writes no rows; it "
                         "runs Athena's DDL (CREATE EXTERNAL TABLE, DROP TABLE, SHOW CREATE TABLE...) on the catalog "
                         "itself, and SHOW TABLES and DESCRIBE <table>")

    try:
        _refuse_unknown_types(tree, sql, line_offset, origin)
        refs = _resolve_tables(tree, catalog, sql, line_offset, origin)
        _mark_unnamed_columns(tree)
        tree = _qualify(tree, refs, catalog, sql, line_offset, origin)
        _check_and_rewrite(tree, sql, line_offset, origin)
        _name_unnamed_columns(tree)
        duck = tree.sql(dialect="duckdb", identify=True, unsupported_level=ErrorLevel.RAISE)
    except UnsupportedError as error:
        raise Untranslatable(f"{prefix}no faithful translation to the embedded engine (DuckDB): {error}") from None
    except SqlglotError as error:
        raise Untranslatable(f"{prefix}cannot translate this statement for the embedded engine (DuckDB): "
                             f"{str(error).splitlines()[0]}") from None
    return Translation(sql, duck, tuple(refs.values()))


_UNNAMED = "__stedi_unnamed_"


def _output_select(tree):
    """The SELECT whose projections name the result's columns (the first one of a UNION)."""
    from sqlglot import exp

    while isinstance(tree, (exp.Union, exp.Intersect, exp.Except)):
        tree = tree.left
    while isinstance(tree, exp.Subquery):
        tree = tree.this
    return tree if isinstance(tree, exp.Select) else None


def _mark_unnamed_columns(tree) -> None:
    """Give every output expression that is neither a column nor aliased a placeholder alias;
    it becomes Athena's `_col<position>` once stars are expanded."""
    from sqlglot import exp

    select = _output_select(tree)
    if select is None:
        return
    for i, projection in enumerate(select.expressions):
        if not isinstance(projection, (exp.Alias, exp.Column, exp.Star)):
            projection.replace(exp.alias_(projection.copy(), f"{_UNNAMED}{i}"))


def _name_unnamed_columns(tree) -> None:
    from sqlglot import exp

    select = _output_select(tree)
    if select is None:
        return
    names = {}
    for position, projection in enumerate(select.expressions):
        if projection.alias.startswith(_UNNAMED):
            names[projection.alias] = f"_col{position}"
    for identifier in tree.find_all(exp.Identifier):
        if identifier.name in names:
            identifier.set("this", names[identifier.name])


def _dialect():
    import sqlglot

    return sqlglot.Dialect.get_or_raise("trino")


def _syntax_error(error, sql: str, line_offset: int, origin: str) -> QueryError:
    details = error.errors[0] if getattr(error, "errors", None) else {}
    line, col = details.get("line"), details.get("col")
    description = re.sub(r"<class '(?:\w+\.)*(\w+)'>", r"\1", details.get("description") or str(error))
    if not line or not col:
        return QueryError(f"{origin + ': ' if origin else ''}syntax error: {description}")
    highlight = (details.get("highlight") or " ").splitlines()[0] or " "
    start = max(1, col - len(highlight) + 1)  # sqlglot's column is the highlight's last character
    return at_position(f"syntax error: {description}", sql, line, start, len(highlight),
                       line_offset=line_offset, origin=origin)


def _token_error(error) -> str:
    return f"unterminated string, quoted name or comment ({error})"


# ---------------------------------------------------------------- SHOW TABLES / DESCRIBE

_SHOW_TABLES = re.compile(
    r"\s*SHOW\s+TABLES(?:\s+(?:FROM|IN)\s+(?:\"?awsdatacatalog\"?\.)?[\"`]?(?P<db>[\w-]+)[\"`]?)?"
    r"(?:\s+LIKE\s+'(?P<like>[^']*)')?\s*;?\s*", re.IGNORECASE)
_SHOW_DATABASES = re.compile(r"\s*SHOW\s+(?:DATABASES|SCHEMAS)(?:\s+LIKE\s+'(?P<like>[^']*)')?\s*;?\s*", re.IGNORECASE)
_DESCRIBE = re.compile(
    r"\s*(?:DESCRIBE|DESC|SHOW\s+COLUMNS\s+(?:FROM|IN))\s+"
    r"(?:\"?awsdatacatalog\"?\.)?(?:[\"`]?(?P<db>[\w-]+)[\"`]?\.)?[\"`]?(?P<table>[\w$]+)[\"`]?\s*;?\s*", re.IGNORECASE)


def _special_statement(sql: str, catalog: Catalog) -> str | None:
    """SHOW TABLES, SHOW DATABASES and DESCRIBE, answered from the catalog as DuckDB VALUES queries."""
    match = _SHOW_TABLES.fullmatch(sql)
    if match:
        database = _database(match.group("db"), catalog)
        declared_order = [n for n in schema.table_names() if catalog.relation(database, n)]
        names = declared_order + sorted(n for n in catalog.tables(database) if n not in declared_order)
        return _values([(n,) for n in _like(names, match.group("like"))], ["Table"], ["VARCHAR"])
    match = _SHOW_DATABASES.fullmatch(sql)
    if match:
        return _values([(n,) for n in _like(sorted(catalog.databases), match.group("like"))],
                       ["Database"], ["VARCHAR"])
    match = _DESCRIBE.fullmatch(sql)
    if match:
        database = _database(match.group("db"), catalog)
        relation = _relation(catalog, database, match.group("table").lower())
        what = {"iceberg": "iceberg", "json": "json"}.get(relation.kind, relation.kind)
        if relation.declared and relation.kind == "json":
            what = "json (landing files)"
        rows = [(name, _trino(kind),
                 "partition key" if name in relation.partition_keys else "",
                 f"{what}; declared {relation.keys[name]}" if relation.keys else what)
                for name, kind in relation.columns]
        return _values(rows, ["Column", "Type", "Extra", "Comment"], ["VARCHAR"] * 4)
    return None


def _trino(hive: str) -> str:
    from stedi.query.catalog import trino_type

    return trino_type(hive)


def _like(names: list[str], pattern: str | None) -> list[str]:
    if pattern is None:
        return names
    glob = pattern.replace("*", "[*]").replace("%", "*").replace("_", "?")
    return [n for n in names if fnmatch.fnmatchcase(n, glob)]


def _values(rows: list[tuple], names: list[str], types: list[str]) -> str:
    header = ", ".join(f'"{n}"' for n in names)
    if not rows:
        nulls = ", ".join(f'CAST(NULL AS {t}) AS "{n}"' for n, t in zip(names, types, strict=True))
        return f"SELECT {nulls} WHERE FALSE"
    values = ", ".join("(" + ", ".join(_quote(v) for v in row) + ")" for row in rows)
    return f"SELECT * FROM (VALUES {values}) AS t({header})"


def _quote(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _database(database: str | None, catalog: Catalog) -> str:
    """The database a statement names (the lakehouse's when it names none), if it exists."""
    name = (database or lakehouse().namespace).lower()
    if not catalog.has_database(name):
        raise QueryError(f"Schema '{name}' does not exist: the databases are {', '.join(sorted(catalog.databases))}")
    return name


# ---------------------------------------------------------------- tables


def unknown_table_message(name: str, catalog: Catalog | None = None) -> str:
    catalog = catalog or declared()
    database, _, table = name.rpartition(".")
    database = database.split(".")[-1] or lakehouse().namespace
    names = catalog.tables(database) or catalog.tables(lakehouse().namespace)
    close = difflib.get_close_matches(table, names, n=1)
    hint = f" Did you mean {close[0]}?" if close else ""
    return (f"Table '{name}' does not exist.{hint} The tables in database {database} are: "
            f"{', '.join(names)} (and, for the Iceberg ones, \"<table>$snapshots\" and \"<table>$history\")")


def _relation(catalog: Catalog, database: str, name: str):
    relation = catalog.relation(database, name)
    if relation is None:
        raise QueryError(unknown_table_message(f"{database}.{name}", catalog))
    return relation


def _resolve_tables(tree, catalog: Catalog, sql: str, line_offset: int, origin: str) -> dict[str, TableRef]:
    """Check every table the query names and point it at the relation the engine provides."""
    from sqlglot import exp

    house = lakehouse()
    prefix = f"{origin}: " if origin else ""
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    refs: dict[str, TableRef] = {}
    as_of_count = 0
    for node in list(tree.find_all(exp.Table)):
        if not isinstance(node.this, exp.Identifier):
            raise QueryError(f"{prefix}table functions are not available here: {node.this.sql('trino')}")
        name = node.name.lower()
        catalog_name, database = node.catalog.lower(), node.db.lower()
        if not database and not catalog_name and name in ctes:
            continue
        written = ".".join(p for p in (node.catalog, node.db, node.name) if p)
        database = database or house.namespace
        if catalog_name not in ("", schema.CATALOG) or not catalog.has_database(database):
            raise QueryError(f"{prefix}{unknown_table_message(written, catalog)}")
        base, _, metadata = name.partition("$")
        relation = catalog.relation(database, base)
        if relation is None:
            raise QueryError(f"{prefix}{unknown_table_message(f'{database}.{base}', catalog)}")
        iceberg = relation.kind == "iceberg"
        kind = "a JSON table over the landing files" if relation.declared else f"a {relation.kind} table"
        version = node.args.get("version")
        if metadata:
            if metadata not in schema.METADATA_TABLES:
                raise QueryError(f"{prefix}metadata table \"{name}\" is not available: "
                                 f"use \"{base}$snapshots\" or \"{base}$history\"")
            if not iceberg:
                raise QueryError(f"{prefix}{base} is {kind}, not an Iceberg table: it has no ${metadata}")
            if version is not None:
                raise QueryError(f"{prefix}\"{name}\" cannot be read FOR VERSION/TIMESTAMP AS OF")
            ref = TableRef(base, f"{base}${metadata}", database, metadata=metadata)
        elif version is not None:
            if not iceberg:
                raise QueryError(f"{prefix}{base} is {kind}, not an Iceberg table: it has no versions to travel to")
            ref, as_of_count = _time_travel(base, database, version, as_of_count, prefix)
        else:
            ref = TableRef(base, base, database)
        refs.setdefault(f"{database}.{ref.view}", ref)
        alias = node.alias
        node.set("version", None)
        node.set("catalog", None)
        node.set("db", exp.to_identifier(database))
        node.set("this", exp.to_identifier(ref.view, quoted=True))
        if not alias:
            node.set("alias", exp.TableAlias(this=exp.to_identifier(name if metadata else base, quoted=True)))
    return refs


def _time_travel(name: str, database: str, version, as_of_count: int, prefix: str) -> tuple[TableRef, int]:
    from sqlglot import exp

    kind = str(version.this).upper()
    value = version.expression
    if kind == "VERSION":
        if isinstance(value, exp.Literal) and value.is_int:
            snapshot = int(value.this)
            return TableRef(name, f"{name}@version_{snapshot}", database, version=snapshot), as_of_count
        if isinstance(value, exp.Literal) and value.is_string:
            return TableRef(name, f"{name}@ref_{value.this}", database, version=value.this), as_of_count
        raise QueryError(f"{prefix}FOR VERSION AS OF takes a snapshot id (a number) or a branch or tag "
                         f"name (a string), not {value.sql('trino')}")
    if kind == "TIMESTAMP":
        if value.find(exp.Column):
            raise QueryError(f"{prefix}FOR TIMESTAMP AS OF takes a constant instant, not {value.sql('trino')}")
        instant = value.sql(dialect="duckdb")
        as_of_count += 1
        return TableRef(name, f"{name}@as_of_{as_of_count}", database, as_of=instant), as_of_count
    raise QueryError(f"{prefix}unsupported time travel: FOR {kind} AS OF (use VERSION or TIMESTAMP)")


# ---------------------------------------------------------------- columns and types


def _sqlglot_schema(refs: dict[str, TableRef], catalog: Catalog):
    from sqlglot.schema import MappingSchema

    databases: dict[str, dict] = {}
    for (database, name), relation in catalog.relations.items():
        databases.setdefault(database, {})[name] = relation.trino_columns()
    for ref in refs.values():
        relations = databases.setdefault(ref.database, {})
        if ref.metadata:
            relations[ref.view] = dict(schema.METADATA_TABLES[ref.metadata])
        else:
            relations[ref.view] = catalog.relation(ref.database, ref.table).trino_columns()
    return MappingSchema(databases, dialect="trino")


def _qualify(tree, refs: dict[str, TableRef], catalog: Catalog, sql: str, line_offset: int, origin: str):
    """Resolve every column against the declarations (an unknown column is the user's error)
    and annotate types. If sqlglot cannot qualify a valid query, types stay unknown and any
    division whose result depends on them is refused later."""
    from sqlglot.errors import OptimizeError
    from sqlglot.optimizer.annotate_types import annotate_types
    from sqlglot.optimizer.qualify import qualify

    relations = _sqlglot_schema(refs, catalog)
    try:
        tree = qualify(tree.copy(), schema=relations, dialect="trino", db=lakehouse().namespace,
                       validate_qualify_columns=True, identify=False)
    except OptimizeError as error:
        message = str(error)
        if "could not be resolved" in message or "mbiguous" in message:
            raise _resolution_error(message, sql, line_offset, origin) from None
    try:
        return annotate_types(tree, schema=relations, dialect="trino")
    except Exception:  # noqa: BLE001 - typing is best effort; unknown types refuse divisions
        return tree


def _resolution_error(message: str, sql: str, line_offset: int, origin: str) -> QueryError:
    position = re.search(r"Line: (\d+), Col: (\d+)", message)
    text = re.sub(r"\.?\s*Line: \d+, Col: \d+.*", "", message, flags=re.S).replace("could not", "cannot")
    if position:
        line, col = int(position.group(1)), int(position.group(2))
        name = re.search(r"'([^']*)'", text)
        width = len(name.group(1)) if name else 1
        return at_position(text, sql, line, max(1, col - width + 1), width, line_offset=line_offset, origin=origin)
    return QueryError(f"{origin + ': ' if origin else ''}{text}")


def _type_kind(datatype) -> str:
    from sqlglot import exp

    if datatype is None:
        return "unknown"
    T = exp.DataType.Type
    if datatype.is_type(*exp.DataType.INTEGER_TYPES):
        return "int"
    if datatype.is_type(T.DOUBLE, T.FLOAT, T.UDOUBLE):
        return "double"
    if datatype.is_type(T.DECIMAL, T.BIGDECIMAL, T.DECIMAL32, T.DECIMAL64, T.DECIMAL128, T.DECIMAL256, T.UDECIMAL):
        return "decimal"
    if datatype.is_type(T.UNKNOWN):
        return "unknown"
    if datatype.is_type(T.NULL):
        return "null"
    return "other"


def numeric_kind(node) -> str:
    """int, double, decimal, null, other or unknown, with Trino's typing of literals (1.5 is
    a DECIMAL in Trino, a DOUBLE to sqlglot) and of arithmetic."""
    from sqlglot import exp

    if isinstance(node, (exp.Paren, exp.Neg)):
        return numeric_kind(node.this)
    if isinstance(node, exp.Literal):
        if node.is_string:
            return "other"
        text = str(node.this).lower()
        return "double" if "e" in text else "decimal" if "." in text else "int"
    if isinstance(node, exp.Null):
        return "null"
    if isinstance(node, (exp.Cast, exp.TryCast)):
        return _type_kind(node.to)
    if isinstance(node, (exp.Add, exp.Sub, exp.Mul, exp.Mod, exp.Div, exp.IntDiv)):
        return _combine(numeric_kind(node.left), numeric_kind(node.right))
    return _type_kind(node.type)


def _combine(a: str, b: str) -> str:
    kinds = {a, b}
    if "double" in kinds:
        return "double"
    if "unknown" in kinds:
        return "unknown"
    if "other" in kinds:
        return "other"
    if "decimal" in kinds:
        return "decimal"
    if "int" in kinds:
        return "int"
    return "null"


# ---------------------------------------------------------------- the faithfulness guard


def _check_and_rewrite(tree, sql: str, line_offset: int, origin: str) -> None:
    """Refuse what has no faithful translation; rewrite what has one that sqlglot misses.

    Every decision is taken on the annotated tree first; the rewrites are then applied
    innermost first, each building its replacement from the node's (already rewritten)
    children."""
    from sqlglot import exp

    prefix = f"{origin}: " if origin else ""

    def refuse(node, why: str):
        raise Untranslatable(f"{prefix}{why} [in {node.sql('trino')}]")

    rewrites = []  # (node, function of the node returning its replacement)
    for node in tree.walk(bfs=False):
        if isinstance(node, (exp.Anonymous, exp.AnonymousAggFunc)):
            name = str(node.name).lower()
            if name == "every":
                rewrites.append((node, lambda n: exp.LogicalAnd(this=n.expressions[0].copy())))
            elif name not in SAME_IN_DUCKDB:
                hint = REFUSAL_HINTS.get(name, "sqlglot does not know it, and DuckDB's function of that name, "
                                               "if any, is not known to agree with Trino's")
                refuse(node, f"function {name}() has no faithful translation to the embedded engine "
                             f"(DuckDB): {hint}")
        elif isinstance(node, exp.Typeof):
            refuse(node, "typeof() names types differently in DuckDB (VARCHAR, not varchar)")
        elif isinstance(node, (exp.ApproxDistinct, exp.ApproxQuantile)):
            name = "approx_distinct" if isinstance(node, exp.ApproxDistinct) else "approx_percentile"
            instead = ("count(DISTINCT ...) for the exact figure" if name == "approx_distinct"
                       else "--engine trino for Trino's estimate")
            refuse(node, f"{name}() is an estimate, and DuckDB's estimator is not Trino's: on the same rows "
                         f"they answer differently; use {instead}")
        elif isinstance(node, (exp.Cast, exp.TryCast)) and node.to.is_type(*exp.DataType.TEXT_TYPES):
            if numeric_kind(node.this) == "double":
                refuse(node, "CAST of a double to varchar has no faithful translation: Trino writes "
                             "scientific notation (1.5E0), DuckDB does not (1.5); cast to decimal(p, s) first")
        elif isinstance(node, exp.Div):
            rewrite = _division(node, refuse)
            if rewrite:
                rewrites.append((node, rewrite))
        elif isinstance(node, exp.Mod):
            if numeric_kind(node.left) == "int" and numeric_kind(node.right) == "int":
                rewrites.append((node, lambda n: _zero_guard(n.right, exp.Mod(this=n.left.copy(),
                                                                               expression=n.right.copy()))))
        elif isinstance(node, exp.DateDiff):
            # Trino date_diff(unit, start, end) counts whole units from start to end: DuckDB's
            # date_sub; DuckDB's date_diff counts unit boundaries crossed.
            rewrites.append((node, lambda n: exp.Anonymous(this="DATE_SUB", expressions=[
                exp.Literal.string((n.unit.name if n.args.get("unit") is not None else "day").lower()),
                n.expression.copy(), n.this.copy()])))
        elif isinstance(node, exp.DateAdd):
            if node.this.type is not None and node.this.type.is_type(exp.DataType.Type.DATE):
                rewrites.append((node, lambda n: exp.Cast(this=n.copy(), to=exp.DataType.build("DATE"))))
        elif isinstance(node, exp.RegexpExtract):
            # No match: NULL in Trino, '' in DuckDB.
            rewrites.append((node, lambda n: exp.Case(ifs=[exp.If(
                this=exp.RegexpLike(this=n.this.copy(), expression=n.expression.copy()), true=n.copy())])))
    for node, rewrite in reversed(rewrites):  # pre-order reversed: children before parents
        node.replace(rewrite(node))


UNKNOWN_TYPES = {"string", "text"}  # Hive's names, which Athena's DML (Trino) does not know


def _refuse_unknown_types(tree, sql: str, line_offset: int, origin: str) -> None:
    """`CAST(x AS string)`: Athena answers "Unknown type: string" (its DDL says string, its queries
    say varchar), so DuckDB, which would take it, refuses it too, in Athena's words and at its place."""
    from sqlglot import exp

    if not any(node.to.is_type(exp.DataType.Type.TEXT) for node in tree.find_all(exp.Cast, exp.TryCast)):
        return
    for number, line in enumerate(sql.splitlines(), start=1):
        match = re.search(r"\bAS\s+(string|text)\b", line, re.IGNORECASE)
        if match:
            cast = line.upper().rfind("CAST", 0, match.start())
            column = cast + 1 if cast >= 0 else match.start(1) + 1
            raise at_position(f"Unknown type: {match.group(1).lower()} (Athena's queries name it varchar)", sql,
                              number, column, 4, line_offset=line_offset, origin=origin)
    raise QueryError(f"{origin + ': ' if origin else ''}Unknown type: string (Athena's queries name it varchar)")


def _division(node, refuse):
    from sqlglot import exp

    left, right = numeric_kind(node.left), numeric_kind(node.right)
    if left == "int" and right == "int":  # Trino: integer division, truncating toward zero
        return lambda n: _zero_guard(n.right, exp.IntDiv(this=n.left.copy(), expression=n.right.copy()))
    if "double" in (left, right):
        node.set("typed", False)
        return None
    if "unknown" in (left, right):
        refuse(node, "cannot tell whether this division is an integer division (Trino truncates "
                     "bigint / bigint, DuckDB would not): CAST an operand to double, or to bigint")
    if "decimal" in (left, right):
        refuse(node, "decimal division rounds to the operands' scale in Trino (1.0 / 3 = 0.3) and not "
                     "in DuckDB: write a double instead (1e0, or CAST(x AS double))")
    node.set("typed", False)
    return None


def _zero_guard(divisor, operation):
    """`operation`, raising Trino's "Division by zero" where DuckDB would answer NULL."""
    from sqlglot import exp

    if isinstance(divisor, exp.Literal) and divisor.is_int and int(divisor.this) != 0:
        return operation
    is_zero = exp.EQ(this=divisor.copy(), expression=exp.Literal.number(0))
    error = exp.Anonymous(this="ERROR", expressions=[exp.Literal.string("Division by zero")])
    return exp.Case(ifs=[exp.If(this=is_zero, true=error)], default=operation)
