"""Task panels of the annotation page: one module per task kind, each with
``render(store, task) -> None`` (``workbench/ui/views/annotate.py`` dispatches on the kind)."""
