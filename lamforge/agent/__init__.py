"""Running a LAM as an agent: grounding its answers in the live application."""
