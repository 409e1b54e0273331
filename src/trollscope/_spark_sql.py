"""sqlglot translation of our DuckDB-dialect SQL, with the portable-subset checks (engine.to_dialect).

Kept apart from engine.py so that only code which translates pays for importing sqlglot.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp

from .engine import NotPortable


def transpile(sql: str, dialect: str) -> str:
    """See :func:`trollscope.engine.to_dialect`."""
    trees = [t for t in sqlglot.parse(sql, read="duckdb") if t is not None]
    if dialect == "spark":
        for tree in trees:
            _check_portable(tree)
            _correct_for_spark(tree)
    return ";\n".join(t.sql(dialect) for t in trees)


_NEEDS_ORDER = (exp.RowNumber, exp.Rank, exp.DenseRank, exp.PercentRank, exp.CumeDist, exp.Ntile, exp.Lag, exp.Lead)

# (node types, applies to this node?, why): DuckDB constructs with no faithful Spark form in sqlglot 30.
_REFUSED = [
    (exp.RegexpReplace, lambda n: not ((f := n.args.get("modifiers")) and "g" in f.name) and not (n.expression.is_string and n.expression.name.startswith("^")),
     "without 'g' DuckDB replaces the first match, Spark every one; pass 'g' or anchor with ^"),
    (exp.Cast, lambda n: n.to.is_type(*exp.DataType.INTEGER_TYPES) and isinstance(n.this.unnest(), (exp.Div, exp.TimeToUnix)),
     "DuckDB rounds a fraction cast to an integer, Spark truncates; floor() or round() first"),
    (exp.UnixToTime, lambda n: (s := n.args.get("scale")) is not None and s.name == "3",
     "sqlglot reads epoch_ms(x) as milliseconds -> timestamp; write epoch_us(ts) // 1000"),
    (exp.ArrayAgg, lambda n: isinstance(n.this, exp.Order),
     "Spark's collect_list drops ORDER BY; use list_sort(list(x)) or order in a later step"),
    (exp.Window, lambda n: isinstance(n.this, _NEEDS_ORDER) and not n.args.get("order"),
     "Spark requires ORDER BY here, and DuckDB's row order is not Spark's: order by a key"),
    (exp.PercentileDisc, lambda n: True, "Spark wants WITHIN GROUP, which sqlglot writes as approximate; use quantile_cont"),
    (exp.Star, lambda n: n.args.get("replace"), "Spark has * EXCEPT but no * REPLACE; name the columns"),
    (exp.Union, lambda n: n.args.get("by_name"), "Spark has no UNION BY NAME; list the same columns in the same order"),
    (exp.Create, lambda n: n.kind == "MACRO", "Spark has no SQL macros; inline the expression from a Python string"),
]  # fmt: skip


def _check_portable(tree: exp.Expression) -> None:
    for types, applies, why in _REFUSED:
        for node in tree.find_all(types):
            if applies(node):
                raise NotPortable(f"{node.sql('duckdb')[:120]}: {why}")


def _correct_for_spark(tree: exp.Expression) -> None:
    """Rewrite, in place, what sqlglot 30 writes for Spark but Spark runs differently (checked on 4.3)."""
    ltz = exp.DataType.Type.TIMESTAMPLTZ  # our naive-UTC times, read in the UTC session of SPARK_CONF
    for node in list(tree.find_all(exp.ArgMax, exp.ArgMin)):
        # DuckDB's arg_max skips rows whose value is NULL; Spark's max_by returns that NULL.
        keep = exp.Not(this=exp.Is(this=node.this.copy(), expression=exp.Null()))
        if isinstance(node.parent, exp.Filter):
            node.parent.expression.set("this", exp.and_(node.parent.expression.this, keep))
        else:
            node.replace(exp.Filter(this=node.copy(), expression=exp.Where(this=keep)))
    for node in list(tree.find_all(exp.Window)):
        # row_number(), rank() and dense_rank() are BIGINT in DuckDB and INT in Spark.
        if isinstance(node.this, (exp.RowNumber, exp.Rank, exp.DenseRank)):
            node.replace(exp.cast(node.copy(), exp.DataType.Type.BIGINT))
    for node in list(tree.find_all(exp.Avg)):
        # DuckDB's avg is DOUBLE; Spark's avg of a decimal (avg(CASE ... 1.0 ...)) is a decimal.
        node.set("this", exp.cast(node.this.copy(), exp.DataType.Type.DOUBLE))
    for node in list(tree.find_all(exp.Div)):
        # DuckDB's / is DOUBLE division; Spark's is DECIMAL when a side is a decimal literal like 2.0.
        if not (isinstance(node.this, exp.Cast) and node.this.to.is_type(exp.DataType.Type.DOUBLE)):
            node.set("this", exp.cast(node.this.copy(), exp.DataType.Type.DOUBLE))
    for node in list(tree.find_all(exp.TimeToUnix)):
        # epoch() keeps microseconds in DuckDB; the unix_timestamp() sqlglot writes drops them.
        micros = exp.UnixMicros(this=exp.cast(node.this.copy(), ltz))
        node.replace(exp.Div(this=exp.cast(micros, exp.DataType.Type.DOUBLE), expression=exp.Literal.number(1e6)))
    for node in list(tree.find_all(exp.PercentileCont)):
        # sqlglot writes percentile_cont(x, p), which Spark rejects (and writes its WITHIN GROUP
        # form as the approximate percentile_approx); Spark's percentile() is exact.
        node.replace(exp.Anonymous(this="PERCENTILE", expressions=[node.this.copy(), node.expression.copy()]))
    unsigned = {exp.DataType.Type.UTINYINT: "TINYINT", exp.DataType.Type.USMALLINT: "SMALLINT",
                exp.DataType.Type.UINT: "INT", exp.DataType.Type.UBIGINT: "BIGINT"}  # fmt: skip
    for node in list(tree.find_all(exp.DataType)):
        # Spark has no unsigned integers; hashes are signed there (same bits, see spark_con._signed).
        if node.this in unsigned:
            node.replace(exp.DataType.build(unsigned[node.this]))
    for node in list(tree.find_all(exp.Cast)):
        # CAST('0x' || hex AS BIGINT) parses hex in DuckDB and is NULL in Spark (engine.stable_hash_sql).
        inner = node.this.unnest()
        if isinstance(inner, exp.DPipe) and inner.this.is_string and inner.this.name == "0x":
            digits = exp.Anonymous(
                this="CONV", expressions=[inner.expression.copy(), exp.Literal.number(16), exp.Literal.number(10)]
            )
            node.set("this", digits)
    for node in list(tree.find_all(exp.Bracket)):
        # DuckDB's x[i] and m[k] are NULL past the end or for a missing key; Spark's x[i] fails under
        # ANSI mode (its default). try_element_at is NULL there, as DuckDB is.
        if len(node.expressions) == 1 and not isinstance(node.expressions[0], exp.Slice):
            node.set("safe", True)
    for node in list(tree.find_all(exp.ArraySlice)):
        # array_slice(x, i, j) takes elements i..j in DuckDB; Spark's slice(x, i, n) takes n of them
        # (sqlglot converts a literal j only).
        start, end = node.args.get("start"), node.args.get("end")
        if not node.args.get("is_length") and start is not None and end is not None and not end.is_number:
            n = exp.Add(this=exp.Sub(this=exp.paren(end.copy()), expression=exp.paren(start.copy())),
                        expression=exp.Literal.number(1))  # fmt: skip
            node.replace(exp.Anonymous(this="SLICE", expressions=[node.this.copy(), start.copy(), n]))
    for node in list(tree.find_all(exp.Lower)):
        # Java lower-cases by context (full case mapping): a capital sigma ending a word becomes ς and
        # İ becomes i + U+0307; DuckDB maps each code point alone (Σ -> σ, İ -> i). Mapped first, the
        # two leave Java nothing to decide by context.
        node.set("this", exp.Anonymous(this="TRANSLATE", expressions=[
            node.this.copy(), exp.Literal.string("\u03a3\u0130"), exp.Literal.string("\u03c3i")]))  # fmt: skip
    regex = (exp.RegexpLike, exp.RegexpExtract, exp.RegexpReplace, exp.RegexpFullMatch, exp.RegexpSplit,
             exp.RegexpExtractAll, exp.RegexpILike)  # fmt: skip
    for node in list(tree.find_all(*regex)):
        pattern = node.args.get("expression")
        if isinstance(pattern, exp.Literal) and pattern.is_string:
            pattern.replace(exp.Literal.string(re2_for_java(pattern.name)))
    for node in list(tree.find_all(exp.Trim)):
        # trim(x), ltrim(x), rtrim(x) strip every Unicode space separator in DuckDB (a no-break space
        # after a URL, say) and only ' ' in Spark. With characters named, both strip those alone.
        if node.args.get("expression") is None:
            side = (node.args.get("position") or "BOTH").upper()
            pattern = {"LEADING": r"^\p{Zs}+", "TRAILING": r"\p{Zs}+$"}.get(side, r"^\p{Zs}+|\p{Zs}+$")
            node.replace(exp.RegexpReplace(this=node.this.copy(), expression=exp.Literal.string(pattern),
                                           replacement=exp.Literal.string("")))  # fmt: skip
    for node in list(tree.find_all(exp.Anonymous)):
        if node.name.lower() == "hash":
            # Values are engine-specific either way; Spark's hash() is 32-bit (collisions from ~10^5 keys).
            node.set("this", "XXHASH64")
        elif node.name.lower() == "list_intersect":  # both keep one of each common element
            node.set("this", "ARRAY_INTERSECT")
        elif node.name.lower() == "epoch_us":  # unknown to sqlglot; exact integer microseconds
            node.replace(exp.UnixMicros(this=exp.cast(node.expressions[0].copy(), ltz)))


_WORD = "[0-9A-Za-z_]"
_SPACE = r"\t\n\f\r "  # RE2's \s; Java's also takes the vertical tab
_JAVA_FOR_RE2 = {
    # RE2's \b and \B are ASCII word boundaries; Java's use Unicode letters, so "わぁいHillary" has no
    # \b before "Hillary" in Java and one in RE2.
    # (?-i: so that a case-insensitive pattern's Unicode folding cannot widen the ASCII class.)
    "b": f"(?-i:(?<={_WORD})(?!{_WORD})|(?<!{_WORD})(?={_WORD}))",
    "B": f"(?-i:(?<={_WORD})(?={_WORD})|(?<!{_WORD})(?!{_WORD}))",
    "s": f"[{_SPACE}]",
    "S": f"[^{_SPACE}]",
}


def re2_for_java(pattern: str) -> str:
    """A DuckDB (RE2) pattern as Java's regex engine must be given it to match the same strings.

    \\b and \\B (outside character classes), \\s and \\S become their ASCII RE2 meaning, and the
    case-insensitive flag ``(?i)`` also folds non-ASCII letters (Java's ``u`` flag; RE2 folds Unicode
    by default). Everything else (\\w, \\d, \\p{L}, classes) means the same in both.
    """
    out, i, in_class = [], 0, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            if in_class:  # inside a class: \\s as its members, \\S as a nested class (Java's union)
                out.append({"s": _SPACE, "S": f"[^{_SPACE}]"}.get(nxt, c + nxt))
            else:
                out.append(_JAVA_FOR_RE2.get(nxt, c + nxt))
            i += 2
            continue
        if c == "[" and not in_class:
            in_class = True
            out.append(c)
            if pattern[i + 1 : i + 2] == "^":  # a ']' right after '[' or '[^' is a member, not the end
                out.append("^")
                i += 1
            if pattern[i + 1 : i + 2] == "]":
                out.append("]")
                i += 1
        elif c == "]" and in_class:
            in_class = False
            out.append(c)
        elif not in_class and pattern.startswith("(?", i) and (m := _flags(pattern, i)) is not None:
            flags, end = m
            out.append("(?" + flags + ("u" if "i" in flags and "u" not in flags else "") + pattern[end])
            i = end
        else:
            out.append(c)
        i += 1
    return "".join(out)


def _flags(pattern: str, i: int) -> tuple[str, int] | None:
    """At ``(?`` in ``pattern``: the flag letters of a ``(?flags)`` or ``(?flags:`` group and the
    index of its ``)`` or ``:``; None for other groups (``(?:``, ``(?=``, ``(?P<``…)."""
    j = i + 2
    while j < len(pattern) and pattern[j] in "imsU-":
        j += 1
    if j == i + 2 or j >= len(pattern) or pattern[j] not in "):":
        return None
    return pattern[i + 2 : j], j
