"""What training and reading share, so that neither imports the other: checkpoint I/O (one
`Checkpoint` dataclass), the device choice and the one preprocessing per model kind."""
