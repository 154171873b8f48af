"""One vocabulary for models, validation and notebooks: the labs, the providers and their fiscal calendars."""

from __future__ import annotations

# The two labs the argument is about.
LABS: tuple[str, ...] = ("OpenAI", "Anthropic")

# Providers whose contract backlog (remaining performance obligations) the report splits.
PROVIDERS: tuple[str, ...] = ("Microsoft", "Oracle", "Alphabet", "Amazon", "CoreWeave")

# Month in which each provider's fiscal year ends (Microsoft: June; Oracle: May; the others: December).
FISCAL_YEAR_END_MONTH: dict[str, int] = {"Microsoft": 6, "Oracle": 5, "Alphabet": 12, "Amazon": 12, "CoreWeave": 12}
