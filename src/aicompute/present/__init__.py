"""The presentation: chart builders, the chart theme, Vega output plumbing, display helpers and page templates.

Imports the analysis, never the build.
"""
