"""ICD-10-CM suggestions per assessed problem of a problem-oriented assessment and plan.

``assessed_problems`` reads the problems from a draft, ``suggest_problem_codes`` ranks codes
for each with the transcript mentions that support them, ``load_icd_catalog`` gives the
classification (lookup, hierarchy, description search) from the installed package.
"""

from pipelines.problem_coding.catalog import CatalogMatch, IcdCatalog, load_icd_catalog, words
from pipelines.problem_coding.laterality import SIDES, side_code, stated_side
from pipelines.problem_coding.problems import AssessedProblem, assessed_problems, problem_name
from pipelines.problem_coding.suggest import (
    LINKED,
    PROBLEM_CODES_VERSION,
    TEXT_SEARCH,
    ProblemCode,
    ProblemSuggestions,
    suggest_problem_codes,
)

__all__ = [
    "LINKED",
    "PROBLEM_CODES_VERSION",
    "SIDES",
    "TEXT_SEARCH",
    "AssessedProblem",
    "CatalogMatch",
    "IcdCatalog",
    "ProblemCode",
    "ProblemSuggestions",
    "assessed_problems",
    "load_icd_catalog",
    "problem_name",
    "side_code",
    "stated_side",
    "suggest_problem_codes",
    "words",
]
