"""Tested building blocks behind the AI compute economics report.

Notebooks import loaders (:mod:`aicompute.data`), models (:mod:`aicompute.backlog`, :mod:`aicompute.circular`,
:mod:`aicompute.passthrough`, :mod:`aicompute.absorption`, :mod:`aicompute.verdict`), the chart theme
(:mod:`aicompute.theme`) and key-number records (:mod:`aicompute.records`) from here.
"""

__version__ = "0.1.0"
