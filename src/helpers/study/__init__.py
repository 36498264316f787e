"""The run records and what they show: studies, statistics, claims, the paper's numbers."""
