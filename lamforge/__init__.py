"""lamforge: build Large Action Models end to end, from help pages to a grounded agent."""

__version__ = "0.1.0"
