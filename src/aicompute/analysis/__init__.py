"""The analysis: the one loader (``data``), the chapter models, key-number records and the verdict rules.

Imports pandas and numpy only; never the presentation or the build (``tests/test_layout.py`` checks).
"""
