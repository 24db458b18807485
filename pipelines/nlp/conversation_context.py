"""medspacy ConText that only runs where it can change something.

A segment without entities has nothing for ConText to modify, and a third of the tokens in
a consultation sit in such segments ("Okay.", "How are you doing?"). This component skips
them; the dialogue step still needs their cues now and then ("My mom did." answers "Any
history of cancer?"), so :meth:`ConversationContext.graph` runs ConText on demand.
Imported only by ``pipelines.nlp.context.add_context`` (medspacy is slow to import).
"""

# No `from __future__ import annotations` here: spaCy validates factory signatures at
# runtime and cannot resolve string annotations.

from medspacy.context import ConText
from medspacy.context.context_graph import ConTextGraph
from spacy.language import Language
from spacy.tokens import Doc

CONVERSATION_CONTEXT_FACTORY = "scribe_conversation_context"


class ConversationContext(ConText):
    """ConText (rules added with ``add``) that leaves segments without entities alone."""

    def __call__(self, doc: Doc, targets: str | None = None) -> Doc:
        if targets is None and not doc.ents:
            return doc  # doc._.context_graph stays None: see graph()
        return super().__call__(doc, targets)

    def graph(self, doc: Doc) -> ConTextGraph:
        """The doc's ConText graph (modifiers and edges), computed now if it was skipped."""
        if doc._.context_graph is None:
            super().__call__(doc)
        return doc._.context_graph


@Language.factory(CONVERSATION_CONTEXT_FACTORY)
def make_conversation_context(nlp: Language, name: str) -> ConversationContext:
    """spaCy factory: an empty ConText; ``add_context`` adds the rules."""
    # A cue inside the entity itself ("can't move", "not sleeping well") is part of what the
    # patient reports, not a negation of it.
    return ConversationContext(nlp, name=name, rules=None, prune_on_target_overlap=True)
