"""Experiments from the seed documents, each one function that writes a report."""
