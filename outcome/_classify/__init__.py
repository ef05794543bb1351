"""
The failure classifier: who must act on a failure, and whether waiting helps.

Classifying is pure, bounded in time whatever the shape, and total: it never
raises an `Exception`, whatever the object. A `BaseException` that is not an
`Exception` (a `KeyboardInterrupt` raised by a property) gets through.

Modules, each importing only those above it: `decision` (the record and the
self-classifying protocol), `rules` (what each client's failures say), `facts`
(reading one link), `chain` (walking the causes), `retry_after`, and
`classifier` (the engine).
"""

from outcome._classify.classifier import DEFAULT_CLASSIFIER, Classifier, classify
from outcome._classify.decision import Decision, SelfClassifying

__all__ = [
    "DEFAULT_CLASSIFIER",
    "Classifier",
    "Decision",
    "SelfClassifying",
    "classify",
]
