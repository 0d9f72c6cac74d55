"""Per-lesson exercise checkers (``from collapse_kit.exercises import lesson01 as check``)."""
