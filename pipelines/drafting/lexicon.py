"""Words that carry no clinical content, and the content words of a text.

Shared by the rewrite rules, the support check and the phrase miner, so that all three agree
on what counts as content.
"""

from __future__ import annotations

import re

# Function words: pronouns, auxiliaries, articles, negators. They carry no clinical content.
STOPWORDS = frozenset(
    """a an the and or but if so to of in on at for with by from as into about over after before
    than then that this these those it it's its is isn't are aren't was wasn't were weren't be
    been being am has hasn't have haven't had hadn't having do does doesn't did didn't don't
    done not no nor can can't cannot could couldn't will won't would wouldn't should shouldn't
    may might must i i'm i've i'd i'll me my mine myself you you're you've you'll you'd your
    yours yourself they they're they've they'll they'd their theirs them themselves we we're
    we've we'll our us any some just also too she she's he he's her hers herself him his
    himself""".split()
)
TOKEN = re.compile(r"[a-z0-9]+(?:['-][a-z0-9]+)*")


def normalise(text: str) -> str:
    """Lower-case and rejoin tokenised contractions ("do n't" -> "don't")."""
    t = text.lower().replace("\u2019", "'")
    t = re.sub(r"\s+(n't|'s|'re|'ve|'ll|'d|'m)\b", r"\1", t)
    return re.sub(r"\b(gon|wan) na\b", r"\1na", t)


def content_words(text: str) -> set[str]:
    """The content words of a text: lower-cased tokens that are not function words."""
    return {w for w in TOKEN.findall(normalise(text)) if w not in STOPWORDS}
