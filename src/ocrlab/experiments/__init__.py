"""Experiments from "Breaking CAPTCHA" and "Letter Recognition", each one function that writes a
report: the MLP grid and the memorisation run. The trainers they use live in `ocrlab.train`."""
