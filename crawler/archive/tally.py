"""The index's counters, kept by SQLite itself: citations and links by status, in O(1).

So that the run report's tally and the look-up of due links cost what is asked, not what is
archived, whichever process or code path writes `citations` or `links` (crawl, reindex, a
distributed run's other processes, an older crawler on the same file), triggers keep two
tables up to date. `read` gives what `citations` would count; `recount` sets them from one
full count (after a rebuild); `install` brings an older index up to date.
"""

from __future__ import annotations

import sqlite3
from typing import Any

#: Bumped when the counters below change; an older index is brought up to date on opening.
VERSION = 1

# Counters kept by SQLite itself, so that `citation_tally` and `due_links` cost what is
# asked, not what is archived, whichever process or code path writes `citations` or `links`
# (crawl, reindex, a distributed run's other processes, an older crawler on the same file).
#
# `link_tally` has a row per link id that is in `links` or cited: `cites` is the number of
# `citations` rows naming it, `status` the status it is counted under in tally 'links' and
# `cited` the one it is counted under in tally 'cited' (NULL when not counted). `tally` holds
# ('citations', 'rows' | 'invalid_rows'), ('links', status): links by status, and ('cited',
# status): links that are in `links` and cited at least once, by status: what the full JOIN
# of `citations` and `links` would count.
TABLES = (
    "CREATE TABLE IF NOT EXISTS link_tally(link_id TEXT PRIMARY KEY, "
    "cites INTEGER NOT NULL DEFAULT 0, status TEXT, cited TEXT) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS tally(kind TEXT NOT NULL, key TEXT NOT NULL, "
    "n INTEGER NOT NULL, PRIMARY KEY(kind, key)) WITHOUT ROWID",
)


def _ensure(table: str, columns: str, values: str, where: str, key: str) -> str:
    """INSERT of a counter row unless there is one. No `INSERT OR IGNORE` or upsert in the
    triggers: the statement firing a trigger imposes its conflict policy on the trigger's
    (INSERT OR REPLACE INTO links would turn them into REPLACE and zero the counter)."""
    return f"""
    INSERT INTO {table}({columns}) SELECT {values} WHERE {where}
        AND NOT EXISTS (SELECT 1 FROM {table} WHERE {key});"""


def _bump(kind: str, key: str, delta: int, when: str | None = None) -> str:
    match = f"kind = '{kind}' AND key = {key}"
    cond = f" AND {when}" if when else ""
    ensure = _ensure("tally", "kind, key, n", f"'{kind}', {key}, 0", when or "1", match)
    return f"""{ensure}
    UPDATE tally SET n = n + ({delta}) WHERE {match}{cond};"""


def _uncount(x: str, kind: str, column: str) -> str:
    """Take link `x` (an SQL expression) out of tally `kind`, under its `column` of link_tally."""
    return f"""
    UPDATE tally SET n = n - 1 WHERE kind = '{kind}'
        AND key = (SELECT {column} FROM link_tally WHERE link_id = {x});"""


def _count(x: str, kind: str, column: str) -> str:
    """Count link `x` in tally `kind` under its `column` of link_tally (when not NULL)."""
    return f"""
    INSERT INTO tally(kind, key, n) SELECT '{kind}', t.{column}, 0 FROM link_tally t
        WHERE t.link_id = {x} AND t.{column} IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM tally WHERE kind = '{kind}' AND key = t.{column});
    UPDATE tally SET n = n + 1 WHERE kind = '{kind}'
        AND key = (SELECT {column} FROM link_tally WHERE link_id = {x});"""


def _link_changed(x: str) -> str:
    """Re-count link `x` after its `links` row was inserted, deleted or changed.

    Takes back what the link was counted as and counts it anew, so it is right however the
    row changed: UPDATE, DELETE, or INSERT OR REPLACE with or without recursive triggers
    (the DELETE trigger of the replaced row).
    """
    where = f"WHERE link_id = {x}"
    return "".join(
        (
            _ensure("link_tally", "link_id", x, f"{x} IS NOT NULL", f"link_id = {x}"),
            _uncount(x, "links", "status"),
            _uncount(x, "cited", "cited"),
            f"""
    UPDATE link_tally SET status = (SELECT status FROM links WHERE id = {x}) {where};
    UPDATE link_tally SET cited = CASE WHEN cites > 0 THEN status END {where};""",
            _count(x, "links", "status"),
            _count(x, "cited", "cited"),
            f"""
    DELETE FROM link_tally {where} AND cites = 0 AND status IS NULL;""",
        )
    )


def _cites_changed(row: str, sign: int) -> str:
    """Count a `citations` row (`NEW` or `OLD`) in (sign 1) or out (sign -1)."""
    x = f"{row}.link_id"
    where = f"WHERE link_id = {x}"
    return "".join(
        (
            _bump("citations", "'rows'", sign),
            _bump("citations", "'invalid_rows'", sign, f"{x} IS NULL"),
            _ensure("link_tally", "link_id", x, f"{x} IS NOT NULL", f"link_id = {x}"),
            _uncount(x, "cited", "cited"),
            f"""
    UPDATE link_tally SET cites = cites + ({sign}),
        cited = CASE WHEN cites + ({sign}) > 0 THEN status END {where};""",
            _count(x, "cited", "cited"),
            f"""
    DELETE FROM link_tally {where} AND cites = 0 AND status IS NULL;""",
        )
    )


TRIGGERS = {
    "tally_citations_insert": f"AFTER INSERT ON citations BEGIN {_cites_changed('NEW', 1)} END",
    "tally_citations_delete": f"AFTER DELETE ON citations BEGIN {_cites_changed('OLD', -1)} END",
    "tally_citations_update": "AFTER UPDATE OF link_id ON citations "
    "WHEN OLD.link_id IS NOT NEW.link_id "
    f"BEGIN {_cites_changed('OLD', -1)} {_cites_changed('NEW', 1)} END",
    "tally_links_insert": f"AFTER INSERT ON links BEGIN {_link_changed('NEW.id')} END",
    "tally_links_delete": f"AFTER DELETE ON links BEGIN {_link_changed('OLD.id')} END",
    "tally_links_update": "AFTER UPDATE OF id, status ON links "
    f"BEGIN {_link_changed('OLD.id')} {_link_changed('NEW.id')} END",
}


def recount(db: sqlite3.Connection) -> None:
    """Set the counters from a full count of `citations` and `links` (in a transaction)."""
    db.execute("DELETE FROM link_tally")
    db.execute("DELETE FROM tally")
    db.execute(
        "INSERT INTO link_tally(link_id, cites) SELECT link_id, count(*) FROM citations "
        "WHERE link_id IS NOT NULL GROUP BY link_id"
    )
    db.execute(
        "INSERT INTO link_tally(link_id, status) SELECT id, status FROM links "
        "WHERE id IS NOT NULL ON CONFLICT(link_id) DO UPDATE SET status = excluded.status"
    )
    db.execute("UPDATE link_tally SET cited = status WHERE cites > 0")
    db.execute("DELETE FROM link_tally WHERE cites = 0 AND status IS NULL")
    for kind, column in (("links", "status"), ("cited", "cited")):
        db.execute(
            f"INSERT INTO tally(kind, key, n) SELECT '{kind}', {column}, count(*) "
            f"FROM link_tally WHERE {column} IS NOT NULL GROUP BY {column}"
        )
    db.execute(
        "INSERT INTO tally(kind, key, n) VALUES ('citations', 'rows', "
        "(SELECT count(*) FROM citations)), ('citations', 'invalid_rows', "
        "(SELECT count(*) FROM citations WHERE link_id IS NULL))"
    )


def read(db: sqlite3.Connection) -> dict[str, Any]:
    """What `citations` would print, counted: rows, distinct links, links by status.

    Read from the counters the triggers keep: the same numbers as counting `citations`
    joined with `links`, in time independent of the archive's size.
    """
    counts: dict[str, dict[str, int]] = {"citations": {}, "cited": {}}
    for kind, key, n in db.execute(
        "SELECT kind, key, n FROM tally WHERE kind IN ('citations', 'cited') AND n > 0 "
        "ORDER BY kind, key"
    ):
        counts[kind][key] = n
    by_status = counts["cited"]
    return {
        "rows": counts["citations"].get("rows", 0),
        "invalid_rows": counts["citations"].get("invalid_rows", 0),
        "links": sum(by_status.values()),
        "links_by_status": by_status,
    }


def installed(db: sqlite3.Connection) -> bool:
    """Whether the counters and their triggers are in place at this VERSION."""
    if db.execute("PRAGMA user_version").fetchone()[0] != VERSION:
        return False
    names = {n for (n,) in db.execute("SELECT name FROM sqlite_master")}
    return {"link_tally", "tally", *TRIGGERS} <= names


def create_triggers(db: sqlite3.Connection) -> None:
    """Create the triggers that keep the counters (where missing)."""
    for name, body in TRIGGERS.items():
        db.execute(f"CREATE TRIGGER IF NOT EXISTS {name} {body}")


def drop_triggers(db: sqlite3.Connection) -> None:
    """Drop the triggers (a rebuild counts once at its end instead)."""
    for name in TRIGGERS:
        db.execute(f"DROP TRIGGER IF EXISTS {name}")


def install(db: sqlite3.Connection) -> None:
    """Create the counters of an index made by an older crawler (in a transaction).

    Costs one pass over `citations` and `links`, once; every later write keeps them.
    """
    drop_triggers(db)
    for table in TABLES:
        db.execute(table)
    recount(db)
    create_triggers(db)
    db.execute(f"PRAGMA user_version={VERSION}")
