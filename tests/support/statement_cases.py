"""Every BigQuery statement kind, with the cases the statement harness runs for each.

Two tables, `ds.t` and `ds.u`, are loaded fresh before every case, into the engine and
into GoogleSQL's reference evaluator alike. A case is checked one of four ways:

- `query`: the statement's rows and column types against the evaluator's answer;
- `modify`: an INSERT, UPDATE or DELETE; the target table afterwards against the table
  the evaluator's changed rows give, and the affected-row count against their number;
- `ddl`: the statement, then `check` on the engine (or the script's own last result when
  there is no check), against `reference` on the evaluator (what BigQuery documents the
  statement to leave behind, written as a query);
- `observe`: no reference can run it; the harness records whether the engine ran it,
  refused it by name, or failed some other way.

A kind listed with no case is reported as not yet tried.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.googlesql.catalog import Column
from pipeline.googlesql.evaluate import Table
from pipeline.googlesql.types import scalar

_INT = scalar("TYPE_INT64")
_STRING = scalar("TYPE_STRING")
_FLOAT = scalar("TYPE_DOUBLE")

TABLES = {
    "ds.t": Table(
        [Column("id", _INT), Column("v", _STRING), Column("x", _FLOAT)],
        [(1, "a", 1.5), (2, "b", None), (2, "b", -0.5), (3, None, 2.0), (None, "c", 0.0)],
    ),
    "ds.u": Table(
        [Column("id", _INT), Column("w", _STRING)],
        [(2, "x"), (3, "y"), (4, "z"), (None, "n")],
    ),
}
T, U = "`ds.t`", "`ds.u`"


@dataclass(frozen=True)
class StatementCase:
    family: str
    kind: str
    sql: str
    mode: str  # "query", "modify", "ddl" or "observe"
    check: str = ""  # ddl: the engine's query afterwards
    reference: str = ""  # ddl: the evaluator's query for the same answer
    ordered: bool = False  # rows compare in order (a top-level ORDER BY)


def _q(kind: str, sql: str, *, family: str = "query", ordered: bool = False) -> StatementCase:
    return StatementCase(family, kind, sql, "query", ordered=ordered)


def _dml(kind: str, sql: str) -> StatementCase:
    return StatementCase("DML", kind, sql, "modify", check=f"SELECT * FROM {T}")


def _ddl(kind: str, sql: str, check: str, reference: str, family: str = "DDL") -> StatementCase:
    return StatementCase(family, kind, sql, "ddl", check=check, reference=reference)


def _observe(family: str, kind: str, sql: str) -> StatementCase:
    return StatementCase(family, kind, sql, "observe")


NEW = "`ds.created`"
CASES: list[StatementCase] = [
    _q("SELECT", f"SELECT id, v FROM {T} WHERE x > 0"),
    _q("SELECT", f"SELECT * FROM {T}"),
    _q("SELECT", f"SELECT DISTINCT v FROM {T}"),
    _q("SELECT * EXCEPT / REPLACE", f"SELECT * EXCEPT (x) FROM {T}"),
    _q("SELECT * EXCEPT / REPLACE", f"SELECT * REPLACE (UPPER(v) AS v) FROM {T}"),
    _q("GROUP BY / HAVING", f"SELECT id, COUNT(*) AS n, SUM(x) AS s FROM {T} GROUP BY id"),
    _q("GROUP BY / HAVING", f"SELECT v, MAX(x) AS m FROM {T} GROUP BY v HAVING COUNT(*) > 1"),
    _q("GROUP BY ROLLUP", f"SELECT id, v, COUNT(*) AS n FROM {T} GROUP BY ROLLUP (id, v)"),
    _q("JOIN", f"SELECT t.id, u.w FROM {T} AS t JOIN {U} AS u ON t.id = u.id"),
    _q("JOIN", f"SELECT id, t.v, u.w FROM {T} AS t LEFT JOIN {U} AS u USING (id)"),
    _q("JOIN", f"SELECT t.id AS a, u.id AS b FROM {T} AS t FULL JOIN {U} AS u ON t.id = u.id"),
    _q("JOIN", f"SELECT t.v, u.w FROM {T} AS t CROSS JOIN {U} AS u WHERE u.id = 4"),
    _q("WITH", f"WITH a AS (SELECT id FROM {T}) SELECT id FROM a WHERE id > 1"),
    _q(
        "WITH RECURSIVE",
        "WITH RECURSIVE r AS (SELECT 1 AS n UNION ALL SELECT n + 1 FROM r WHERE n < 5)"
        " SELECT n FROM r",
    ),
    _q("subquery", f"SELECT id FROM {T} WHERE id IN (SELECT id FROM {U})"),
    _q("subquery", f"SELECT id FROM {T} AS t WHERE EXISTS (SELECT 1 FROM {U} AS u WHERE u.id = t.id)"),
    _q("subquery", f"SELECT id, (SELECT MAX(w) FROM {U} AS u WHERE u.id = t.id) AS w FROM {T} AS t"),
    _q("UNNEST", f"SELECT id, e FROM {T}, UNNEST([id, id * 10]) AS e"),
    _q("UNNEST", "SELECT e, o FROM UNNEST(['p', 'q']) AS e WITH OFFSET AS o"),
    _q("ORDER BY / LIMIT / OFFSET", f"SELECT id, v FROM {T} ORDER BY id DESC, x LIMIT 3 OFFSET 1", ordered=True),
    _q("ORDER BY / LIMIT / OFFSET", f"SELECT id FROM {T} ORDER BY id NULLS LAST", ordered=True),
    _q("window / QUALIFY", f"SELECT id, x, ROW_NUMBER() OVER (PARTITION BY id ORDER BY x) AS r FROM {T}"),
    _q("window / QUALIFY", f"SELECT id, x FROM {T} WHERE TRUE QUALIFY RANK() OVER (ORDER BY x DESC) = 1"),
    _q("PIVOT", f"SELECT * FROM (SELECT v, x FROM {T}) PIVOT (SUM(x) FOR v IN ('a', 'b'))"),
    _q("UNPIVOT", f"SELECT * FROM (SELECT id, v, w FROM {T} JOIN {U} USING (id)) UNPIVOT (s FOR c IN (v, w))"),
    _q("UNPIVOT", f"SELECT * FROM (SELECT id, v, w FROM {T} LEFT JOIN {U} USING (id)) UNPIVOT INCLUDE NULLS (s FOR c IN (v, w))"),
    _q("UNPIVOT", f"SELECT * FROM (SELECT id, v, CAST(id + 1 AS STRING) AS xs, w, CAST(id AS STRING) AS ids FROM {T} LEFT JOIN {U} USING (id)) UNPIVOT ((s, n) FOR c IN ((v, xs) AS 'first', (w, ids) AS 'second'))"),
    _q("UNPIVOT", f"SELECT u.c, u.s FROM (SELECT id, v, w FROM {T} LEFT JOIN {U} USING (id)) UNPIVOT (s FOR c IN (v AS 1, w AS 2)) AS u WHERE u.c > 1"),
    _q("UNPIVOT", f"SELECT * FROM (SELECT id, v, w FROM {T} JOIN {U} USING (id)) UNPIVOT (s FOR c IN (v, w, v))"),
    _q("SELECT AS STRUCT / VALUE", f"SELECT ARRAY(SELECT AS STRUCT id, v FROM {T} WHERE id = 1) AS a"),
    _q("UNION ALL", f"SELECT id FROM {T} UNION ALL SELECT id FROM {U}", family="set operation"),
    _q("UNION DISTINCT", f"SELECT id FROM {T} UNION DISTINCT SELECT id FROM {U}", family="set operation"),
    _q("INTERSECT DISTINCT", f"SELECT id FROM {T} INTERSECT DISTINCT SELECT id FROM {U}", family="set operation"),
    _q("EXCEPT DISTINCT", f"SELECT id FROM {T} EXCEPT DISTINCT SELECT id FROM {U}", family="set operation"),
    _q(
        "set operation column names",
        "SELECT s.id, s.l FROM (SELECT STRUCT(1 AS id, 'a' AS l) AS s UNION ALL"
        " SELECT STRUCT(2, 'b')) WHERE s.id > 1",
        family="set operation",
    ),
    _dml("INSERT VALUES", f"INSERT INTO {T} (id, v, x) VALUES (4, 'd', NULL), (NULL, NULL, 1e308)"),
    _dml("INSERT VALUES", f"INSERT {T} VALUES (5, 'e', 0.25)"),
    _dml("INSERT ... SELECT", f"INSERT INTO {T} (id, v) SELECT id, w FROM {U} WHERE id > 2"),
    _dml("INSERT ... SELECT", f"INSERT INTO {T} (v, id) SELECT v, id + 100 FROM {T} WHERE x < 1"),
    _dml("UPDATE", f"UPDATE {T} SET v = 'z', x = x * 2 WHERE id = 2"),
    _dml("UPDATE", f"UPDATE {T} SET id = id + 1 WHERE v IS NULL"),
    _dml("UPDATE", f"UPDATE {T} SET x = NULL WHERE TRUE"),
    _dml("UPDATE ... FROM", f"UPDATE {T} AS t SET v = u.w FROM {U} AS u WHERE t.id = u.id"),
    _dml("DELETE", f"DELETE FROM {T} WHERE id >= 2"),
    _dml("DELETE", f"DELETE {T} WHERE id IN (SELECT id FROM {U})"),
    _dml("DELETE", f"DELETE FROM {T} WHERE TRUE"),
    _ddl("TRUNCATE TABLE", f"TRUNCATE TABLE {T}", f"SELECT * FROM {T}", f"SELECT * FROM {T} WHERE FALSE"),
    _ddl(
        "CREATE TABLE",
        f"CREATE TABLE {NEW} (id INT64, label STRING, score FLOAT64)",
        f"SELECT * FROM {NEW}",
        "SELECT * FROM UNNEST(ARRAY<STRUCT<id INT64, label STRING, score FLOAT64>>[])",
    ),
    _ddl(
        "CREATE TABLE ... AS SELECT",
        f"CREATE TABLE {NEW} AS SELECT id, v, x * 2 AS y FROM {T} WHERE id IS NOT NULL",
        f"SELECT * FROM {NEW}",
        f"SELECT id, v, x * 2 AS y FROM {T} WHERE id IS NOT NULL",
    ),
    _ddl(
        "CREATE OR REPLACE TABLE",
        f"CREATE OR REPLACE TABLE {T} AS SELECT id * 2 AS id, x FROM {T}",
        f"SELECT * FROM {T}",
        f"SELECT id * 2 AS id, x FROM {T}",
    ),
    _ddl(
        "CREATE TABLE IF NOT EXISTS",
        f"CREATE TABLE IF NOT EXISTS {T} AS SELECT 1 AS one",
        f"SELECT * FROM {T}",
        f"SELECT * FROM {T}",
    ),
    _ddl(
        "CREATE VIEW",
        f"CREATE VIEW {NEW} AS SELECT id, COUNT(*) AS n FROM {T} GROUP BY id",
        f"SELECT * FROM {NEW}",
        f"SELECT id, COUNT(*) AS n FROM {T} GROUP BY id",
    ),
    _ddl(
        "CREATE OR REPLACE VIEW",
        f"CREATE VIEW {NEW} AS SELECT 1 AS a; CREATE OR REPLACE VIEW {NEW} AS SELECT w FROM {U}",
        f"SELECT * FROM {NEW}",
        f"SELECT w FROM {U}",
    ),
    _ddl(
        "DROP TABLE",
        f"DROP TABLE {T}",
        f"SELECT COUNT(*) AS n FROM {T}",
        "SELECT COUNT(*) AS n FROM `ds.no_such_table`",
    ),
    _ddl(
        "ALTER TABLE ADD COLUMN",
        f"ALTER TABLE {T} ADD COLUMN note STRING",
        f"SELECT * FROM {T}",
        f"SELECT *, CAST(NULL AS STRING) AS note FROM {T}",
    ),
    _ddl(
        "ALTER TABLE DROP COLUMN",
        f"ALTER TABLE {T} DROP COLUMN x",
        f"SELECT * FROM {T}",
        f"SELECT * EXCEPT (x) FROM {T}",
    ),
    _ddl(
        "ALTER TABLE RENAME COLUMN",
        f"ALTER TABLE {T} RENAME COLUMN v TO label",
        f"SELECT * FROM {T}",
        f"SELECT id, v AS label, x FROM {T}",
    ),
    _ddl(
        "ALTER TABLE RENAME TO",
        f"ALTER TABLE {T} RENAME TO renamed",
        "SELECT * FROM `ds.renamed`",
        f"SELECT * FROM {T}",
    ),
    _ddl(
        "MERGE",
        f"MERGE {T} AS t USING {U} AS u ON t.id = u.id"
        " WHEN MATCHED THEN UPDATE SET v = u.w"
        " WHEN NOT MATCHED THEN INSERT (id, v) VALUES (u.id, u.w)",
        f"SELECT * FROM {T}",
        # What BigQuery documents MERGE to leave: matched rows updated, unmatched source
        # rows inserted (a NULL key matches nothing).
        f"SELECT t.id, IF(u.id IS NULL, t.v, u.w) AS v, t.x FROM {T} AS t"
        f" LEFT JOIN {U} AS u ON t.id = u.id"
        f" UNION ALL SELECT u.id, u.w, NULL FROM {U} AS u"
        f" WHERE NOT EXISTS (SELECT 1 FROM {T} AS t WHERE t.id = u.id)",
        family="DML",
    ),
    _ddl(
        "MERGE",
        f"MERGE {T} AS t USING {U} AS u ON t.id = u.id WHEN MATCHED THEN DELETE",
        f"SELECT * FROM {T}",
        f"SELECT * FROM {T} AS t WHERE NOT EXISTS (SELECT 1 FROM {U} AS u WHERE u.id = t.id)",
        family="DML",
    ),
    _ddl(
        "DROP VIEW",
        f"CREATE VIEW {NEW} AS SELECT 1 AS a; DROP VIEW {NEW}",
        f"SELECT * FROM {NEW}",
        "SELECT * FROM `ds.no_such_table`",
    ),
    _ddl(
        "DROP TABLE IF EXISTS",
        "DROP TABLE IF EXISTS `ds.no_such_table`",
        f"SELECT * FROM {T}",
        f"SELECT * FROM {T}",
    ),
    _observe("DDL", "CREATE SCHEMA", "CREATE SCHEMA other"),
    _observe("DDL", "CREATE SCHEMA IF NOT EXISTS", "CREATE SCHEMA IF NOT EXISTS ds"),
    _observe("DDL", "DROP SCHEMA", "CREATE SCHEMA other; DROP SCHEMA other"),
    _ddl(
        "DROP SCHEMA CASCADE",
        "DROP SCHEMA ds CASCADE",
        f"SELECT * FROM {T}",
        "SELECT * FROM `ds.no_such_table`",
    ),
    _observe("DDL", "ALTER SCHEMA SET OPTIONS", "ALTER SCHEMA ds SET OPTIONS (description = 'd')"),
    _observe("DDL", "ALTER TABLE SET OPTIONS", f"ALTER TABLE {T} SET OPTIONS (description = 'd')"),
    _observe("DDL", "CREATE TABLE LIKE / COPY / CLONE", f"CREATE TABLE {NEW} COPY {T}"),
    _observe("DDL", "CREATE TABLE LIKE / COPY / CLONE", f"CREATE TABLE {NEW} CLONE {T}"),
    _ddl(
        "CREATE TABLE LIKE / COPY / CLONE",
        f"CREATE TABLE {NEW} LIKE {T}",
        f"SELECT * FROM {NEW}",
        f"SELECT * FROM {T} WHERE FALSE",
    ),
    _observe("DDL", "CREATE SNAPSHOT TABLE", f"CREATE SNAPSHOT TABLE {NEW} CLONE {T}"),
    _observe("DDL", "CREATE MATERIALIZED VIEW", f"CREATE MATERIALIZED VIEW {NEW} AS SELECT id FROM {T}"),
    _observe(
        "DDL", "CREATE EXTERNAL TABLE (object table)",
        "CREATE EXTERNAL TABLE ds.objects WITH CONNECTION `us.lake-connection`"
        " OPTIONS (object_metadata = 'SIMPLE', uris = ['gs://bucket/images/*'])",
    ),
    _observe("DDL", "DROP MODEL", "DROP MODEL IF EXISTS ds.no_such_model"),
    _ddl(
        "CREATE FUNCTION",
        f"CREATE TEMP FUNCTION twice(a INT64) AS (a * 2); SELECT twice(id) AS r FROM {T}",
        "",
        f"SELECT id * 2 AS r FROM {T}",
    ),
    _observe("DDL", "CREATE TABLE FUNCTION", f"CREATE TABLE FUNCTION ds.f(n INT64) AS SELECT id FROM {T} WHERE id > n"),
    _observe("DDL", "CREATE PROCEDURE / CALL", "CREATE PROCEDURE ds.p() BEGIN SELECT 1; END"),
    _observe("DDL", "CREATE SEARCH INDEX", f"CREATE SEARCH INDEX ix ON {T} (ALL COLUMNS)"),
    _observe("DDL", "CREATE ROW ACCESS POLICY", f"CREATE ROW ACCESS POLICY p ON {T} FILTER USING (id > 1)"),
    _observe("DCL", "GRANT / REVOKE", f"GRANT `roles/bigquery.dataViewer` ON TABLE {T} TO 'user:a@example.com'"),
    _observe("scripting", "DECLARE / SET", "DECLARE n INT64 DEFAULT 1; SET n = n + 1; SELECT n"),
    _observe("scripting", "IF", "IF 1 > 0 THEN SELECT 1 AS r; END IF"),
    _observe("scripting", "LOOP / WHILE / FOR", "DECLARE i INT64 DEFAULT 0; LOOP SET i = i + 1; IF i > 2 THEN LEAVE; END IF; END LOOP"),
    _observe("scripting", "LOOP / WHILE / FOR", "FOR r IN (SELECT 1 AS a) DO SELECT r.a; END FOR"),
    _observe("scripting", "BEGIN ... END / EXCEPTION", "BEGIN SELECT 1 AS r; EXCEPTION WHEN ERROR THEN SELECT 2 AS r; END"),
    _observe("scripting", "EXECUTE IMMEDIATE", "EXECUTE IMMEDIATE 'SELECT 1 AS r'"),
    _observe("scripting", "ASSERT", "ASSERT 1 = 1 AS 'one is one'"),
    _observe("scripting", "RAISE", "RAISE USING MESSAGE = 'stop'"),
    _observe("transaction", "BEGIN / COMMIT / ROLLBACK TRANSACTION", f"BEGIN TRANSACTION; DELETE FROM {T} WHERE TRUE; COMMIT TRANSACTION"),
    _observe("transaction", "BEGIN / COMMIT / ROLLBACK TRANSACTION", "BEGIN TRANSACTION; ROLLBACK TRANSACTION"),
    _observe("data movement", "EXPORT DATA", f"EXPORT DATA OPTIONS (uri = 'gs://bucket/out/*.csv', format = 'CSV') AS SELECT * FROM {T}"),
    _observe("data movement", "LOAD DATA", "LOAD DATA INTO ds.loaded FROM FILES (format = 'CSV', uris = ['gs://bucket/in/*.csv'])"),
]  # fmt: skip

# Kinds no case exercises yet: the coverage table says so.
UNTRIED = [
    ("DDL", "CREATE MODEL"),
    ("query", "TABLESAMPLE"),
]
