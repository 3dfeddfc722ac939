"""Training: the one torch engine (`loop`, `batches`) and skeleton (`skeleton`) shared by the
word classifier, the sequence recogniser and the letters CNN; the NumPy MLP's trainer (`mlp`); the
letters runs' data, printed letters and reports (`report`, `printed`); run folders."""
