"""The one torch training engine shared by every torch model in ocrlab."""
