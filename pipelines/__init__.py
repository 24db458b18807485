"""Pure processing stages: plain data in, plain data out.

Nothing in this package imports streamlit or opens the database; stages exchange the
frozen dataclasses of :mod:`pipelines.types`.
"""
