"""Datasets on disk: readers, writers and splits; NumPy + Pillow only, never torch."""
