"""One vocabulary for models, validation and notebooks: the labs, the providers and their fiscal calendars."""

from __future__ import annotations

# The two labs the argument is about.
LABS: tuple[str, ...] = ("OpenAI", "Anthropic")

# Providers whose contract backlog (remaining performance obligations) the report splits.
PROVIDERS: tuple[str, ...] = ("Microsoft", "Oracle", "Alphabet", "Amazon", "CoreWeave")

# Month in which each provider's fiscal year ends (Microsoft: June; Oracle: May; the others: December).
FISCAL_YEAR_END_MONTH: dict[str, int] = {"Microsoft": 6, "Oracle": 5, "Alphabet": 12, "Amazon": 12, "CoreWeave": 12}

# How a figure is known, most direct first. A derived figure is our arithmetic on sourced figures (often a company's
# own, e.g. an amount implied by a stated share), so it ranks after the company's figure and before the press.
BASIS_RANK: dict[str, int] = {
    "company_reported": 0,
    "derived": 1,
    "press_reported": 2,
    "analyst_estimate": 3,
    "commentary": 4,
}

# The class of a source (its `kind` in data/sources.csv) as a reader is told it, strongest first.
SOURCE_CLASS: dict[str, str] = {
    "company_filing": "filing",
    "earnings_call": "transcript",
    "earnings_release": "company release",
    "company_announcement": "company release",
    "press_report": "press",
    "analyst_note": "analyst",
    "research_report": "analyst",
    "commentary": "commentary",
}
