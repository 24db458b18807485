"""The migrations' DDL rewritten for DuckLake, which has no keys, checks or indexes.

DuckLake refuses PRIMARY KEY / UNIQUE, CHECK, REFERENCES, CREATE INDEX, CREATE SEQUENCE and
so ``DEFAULT nextval(...)``. ``for_lake`` removes exactly those from a migration's SQL and
keeps everything else (NOT NULL, constant defaults, views, ALTER TABLE ADD COLUMN, data
statements). A key column becomes NOT NULL, as the key made it. What the keys guarded is
kept by the store's one-writer lock: every read-check-write runs under it (``db.Store``).

A small tokenizer, not regular expressions over the raw text: string literals and comments
may contain any of the keywords, and a CHECK's condition nests parentheses.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

# Whitespace, then one token: a comment, a string, a quoted identifier, a word, a number or
# one character of punctuation.
_TOKEN = re.compile(
    r"""(\s*)(--[^\n]*|/\*.*?\*/|'(?:[^']|'')*'|"(?:[^"]|"")*"|[A-Za-z_][A-Za-z0-9_$]*|\d+(?:\.\d+)?|.)""",
    re.DOTALL,
)


@dataclass
class _Tok:
    space: str  # the whitespace before it, kept so the output reads like the input
    text: str

    @property
    def word(self) -> str:
        """The upper-cased keyword ('' for comments, strings and punctuation)."""
        return self.text.upper() if re.fullmatch(r"[A-Za-z_]\w*", self.text) else ""

    @property
    def comment(self) -> bool:
        return self.text.startswith("--") or self.text.startswith("/*")


def _tokens(sql: str) -> list[_Tok]:
    found, at = [], 0
    for match in _TOKEN.finditer(sql):
        if match.start() != at:  # cannot happen: the pattern matches any character
            raise ValueError(f"Cannot read SQL at offset {at}")
        found.append(_Tok(match.group(1), match.group(2)))
        at = match.end()
    tail = sql[at:]
    if tail:
        found.append(_Tok(tail, ""))
    return found


def _text(tokens: list[_Tok]) -> str:
    return "".join(t.space + t.text for t in tokens)


def _code(tokens: list[_Tok]) -> list[int]:
    """Indexes of the tokens that are not comments or trailing whitespace."""
    return [i for i, t in enumerate(tokens) if t.text and not t.comment]


def _split_top(tokens: list[_Tok], separator: str, keep: bool) -> list[list[_Tok]]:
    """The tokens cut at each ``separator`` outside parentheses (kept with the part before
    it when ``keep``); the last part is kept even when empty."""
    parts: list[list[_Tok]] = [[]]
    depth = 0
    for tok in tokens:
        if tok.text == "(":
            depth += 1
        elif tok.text == ")":
            depth -= 1
        if tok.text == separator and depth == 0:
            if keep:
                parts[-1].append(tok)
            parts.append([])
        else:
            parts[-1].append(tok)
    return parts


def _statements(tokens: list[_Tok]) -> list[list[_Tok]]:
    """The token list cut after each top-level ';' (the ';' stays with its statement)."""
    return [part for part in _split_top(tokens, ";", keep=True) if part]


def _words(tokens: list[_Tok], count: int) -> list[str]:
    """The first ``count`` keywords of a statement (comments skipped)."""
    return [tokens[i].word for i in _code(tokens)[:count]]


def _closing(tokens: list[_Tok], start: int) -> int:
    """Index of the ')' matching the '(' at ``start``."""
    depth = 0
    for i in range(start, len(tokens)):
        if tokens[i].text == "(":
            depth += 1
        elif tokens[i].text == ")":
            depth -= 1
            if depth == 0:
                return i
    raise ValueError("Unbalanced parentheses in migration SQL")


def _next_code(tokens: list[_Tok], start: int) -> int | None:
    for i in range(start, len(tokens)):
        if tokens[i].text and not tokens[i].comment:
            return i
    return None


def _strip_column(tokens: list[_Tok]) -> tuple[list[_Tok], bool]:
    """One column definition without PRIMARY KEY, UNIQUE, CHECK (...), REFERENCES t (c)
    and DEFAULT nextval(...); returns it and whether it was a key (so becomes NOT NULL)."""
    out: list[_Tok] = []
    keyed, i = False, 0
    while i < len(tokens):
        tok = tokens[i]
        nxt = _next_code(tokens, i + 1)
        nxt_word = tokens[nxt].word if nxt is not None else ""
        if tok.word == "PRIMARY" and nxt_word == "KEY":
            keyed, i = True, nxt + 1
        elif tok.word == "UNIQUE":
            i += 1
        elif tok.word == "CHECK" and nxt is not None and tokens[nxt].text == "(":
            i = _closing(tokens, nxt) + 1
        elif tok.word == "REFERENCES":
            i = nxt + 1  # the table; then an optional (columns) and ON DELETE/UPDATE actions
            after = _next_code(tokens, i)
            if after is not None and tokens[after].text == "(":
                i = _closing(tokens, after) + 1
            i = _skip_actions(tokens, i)
        elif (
            tok.word == "DEFAULT"
            and nxt_word == "NEXTVAL"
            and (paren := _next_code(tokens, nxt + 1)) is not None
            and tokens[paren].text == "("
        ):
            i = _closing(tokens, paren) + 1
        else:
            out.append(tok)
            i += 1
    return out, keyed


def _skip_actions(tokens: list[_Tok], i: int) -> int:
    """Past any ``ON DELETE|UPDATE action`` clauses starting at ``i``."""
    while (at := _next_code(tokens, i)) is not None and tokens[at].word == "ON":
        verb = _next_code(tokens, at + 1)  # DELETE or UPDATE
        action = _next_code(tokens, verb + 1)
        i = action + 1
        if tokens[action].word in ("NO", "SET"):  # NO ACTION, SET NULL, SET DEFAULT
            i = _next_code(tokens, action + 1) + 1
    return i


def _has_not_null(tokens: list[_Tok]) -> bool:
    code = [tokens[i].word for i in _code(tokens)]
    return any(a == "NOT" and b == "NULL" for a, b in itertools.pairwise(code))


def _insert_not_null(item: list[_Tok]) -> list[_Tok]:
    """``item`` (a column definition) with NOT NULL after its last code token."""
    last = _code(item)[-1]
    return [*item[: last + 1], _Tok(" ", "NOT NULL"), *item[last + 1 :]]


def _split_items(tokens: list[_Tok]) -> list[list[_Tok]]:
    """The comma-separated items between a CREATE TABLE's parentheses (commas dropped)."""
    return _split_top(tokens, ",", keep=False)


def _create_table(tokens: list[_Tok]) -> list[_Tok]:
    """A CREATE TABLE with its constraints removed (keys' columns made NOT NULL)."""
    open_at = next(i for i, t in enumerate(tokens) if t.text == "(")
    close_at = _closing(tokens, open_at)
    items = _split_items(tokens[open_at + 1 : close_at])
    columns: list[list[_Tok]] = []
    key_columns: set[str] = set()
    trailing: list[_Tok] = []  # comments after a dropped last item stay in the text
    for item in items:
        code = _code(item)
        first = item[code[0]].word if code else ""
        second = item[code[1]].word if len(code) > 1 else ""
        if first in ("PRIMARY", "UNIQUE", "CHECK", "FOREIGN", "CONSTRAINT"):
            if first == "PRIMARY" and second == "KEY":
                paren = code[2]
                key_columns |= {
                    item[i].text.strip('"').lower()
                    for i in range(paren + 1, _closing(item, paren))
                    if item[i].text not in (",",) and item[i].text and not item[i].comment
                }
            trailing += [t for t in item if t.comment]
            continue
        stripped, keyed = _strip_column(item)
        if keyed:
            key_columns.add(stripped[_code(stripped)[0]].text.strip('"').lower())
        columns.append(stripped)
    for n, column in enumerate(columns):
        name = column[_code(column)[0]].text.strip('"').lower()
        if name in key_columns and not _has_not_null(column):
            columns[n] = _insert_not_null(column)
    body: list[_Tok] = []
    for n, column in enumerate(columns):
        if n:
            body.append(_Tok("", ","))
        body += column
    for comment in trailing:
        body.append(_Tok(comment.space or " ", comment.text))
    return [*tokens[: open_at + 1], *body, *tokens[close_at:]]


def _lake_statement(tokens: list[_Tok]) -> list[_Tok] | None:
    """One statement as DuckLake takes it; None when it must be left out entirely."""
    words = _words(tokens, 4)
    if words[:2] == ["CREATE", "INDEX"] or words[:3] == ["CREATE", "UNIQUE", "INDEX"]:
        return None
    if words[:2] == ["CREATE", "SEQUENCE"] or words[:2] == ["DROP", "SEQUENCE"]:
        return None
    if words[:2] == ["DROP", "INDEX"]:
        return None
    if words[:2] == ["CREATE", "TABLE"]:
        return _create_table(tokens)
    if words[:1] == ["ALTER"] and "ADD" in [tokens[i].word for i in _code(tokens)]:
        return _strip_column(tokens)[0]
    return tokens


def for_lake(sql: str) -> str:
    """``sql`` (a migration) without what DuckLake refuses: constraints, indexes, sequences
    and ``DEFAULT nextval`` (the store's inserts give every id themselves)."""
    out: list[_Tok] = []
    for statement in _statements(_tokens(sql)):
        kept = _lake_statement(statement)
        if kept is None:  # keep its comments, drop the statement
            out += [_Tok(t.space, t.text) for t in statement if t.comment]
        else:
            out += kept
    return _text(out)
