"""The one script splitter: what is a statement, what is not, and where each one starts."""

from __future__ import annotations

import pytest

from bigquery_scripts import ScriptSplitError, split_script


def texts(script: str) -> list[str]:
    return [statement.text for statement in split_script(script)]


def test_semicolons_inside_strings_identifiers_and_comments_do_not_split() -> None:
    script = "SELECT 'a;b' AS x, `c;d` AS y /* e;f */, \"g;h\" AS z -- i;j\n FROM t"
    assert texts(script) == [script]


def test_comments_between_statements_belong_to_none_and_empty_statements_are_dropped() -> None:
    script = "-- head\nSELECT 1;\n/* only a comment */ ;\n;\nSELECT /* kept */ 2; -- tail\n"
    assert texts(script) == ["SELECT 1", "SELECT /* kept */ 2"]


def test_statements_are_numbered_from_one_with_their_offsets_in_the_script() -> None:
    script = "SELECT 1;\n  DELETE FROM d.t WHERE TRUE"
    first, second = split_script(script)
    assert (first.index, first.start) == (1, 0)
    assert (second.index, script[second.start :]) == (2, "DELETE FROM d.t WHERE TRUE")


def test_a_script_of_only_comments_has_no_statements() -> None:
    assert split_script("-- nothing\n/* at all */") == []


@pytest.mark.parametrize("script", ["SELECT 'open", "SELECT `open", "SELECT 1 /* open"])
def test_an_unterminated_token_is_refused(script: str) -> None:
    with pytest.raises(ScriptSplitError):
        split_script(script)
