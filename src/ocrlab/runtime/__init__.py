"""What training and reading share: the one preprocessing per model kind. Imports no training or
serving module."""
