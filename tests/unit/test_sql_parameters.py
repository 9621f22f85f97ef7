"""`Query`: `:name` parameters become PostgreSQL's `$1, $2, ...` once, each name numbered once, while a
colon in a string literal, a quoted identifier, a comment or a `::` cast is left as it is."""

from __future__ import annotations

from telroute.kit.db import sql


def test_each_name_gets_one_number_in_order_of_first_use() -> None:
    query = sql("SELECT * FROM t WHERE a = :a AND b = :b OR a = :a")
    assert query.pg_text == "SELECT * FROM t WHERE a = $1 AND b = $2 OR a = $1"
    assert query.pg_args({"b": 2, "a": 1, "unused": 3}) == [1, 2]


def test_a_cast_is_not_a_parameter() -> None:
    query = sql("SELECT :value::bigint, x::text FROM t")
    assert (query.pg_text, query.pg_names) == ("SELECT $1::bigint, x::text FROM t", ("value",))


def test_colons_inside_literals_identifiers_and_comments_are_text() -> None:
    query = sql(
        """SELECT 'x:moved', 'it''s :quoted', "odd:name" FROM t -- :commented
           WHERE k = :key AND v LIKE 'a:%'"""
    )
    assert query.pg_names == ("key",)
    assert query.pg_text == (
        """SELECT 'x:moved', 'it''s :quoted', "odd:name" FROM t -- :commented
           WHERE k = $1 AND v LIKE 'a:%'"""
    )


def test_the_postgresql_spelling_is_numbered_when_given() -> None:
    query = sql("SELECT json_extract(:doc, '$.a')", postgres="SELECT (:doc::jsonb)->>'a:b'")
    assert (query.pg_text, query.pg_names, query.sqlite_json) == ("SELECT ($1::jsonb)->>'a:b'", ("doc",), False)
