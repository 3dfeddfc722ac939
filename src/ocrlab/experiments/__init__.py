"""Experiments from the seed documents, each one function that writes a report: the MLP grid and
the memorisation run. The trainers they use live in `ocrlab.train`."""
