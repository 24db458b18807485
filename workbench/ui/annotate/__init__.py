"""Task panels of the annotation page: one module per task kind, each with
``render(store, task) -> None`` (``views/annotate.py`` dispatches on ``task.kind``)."""
