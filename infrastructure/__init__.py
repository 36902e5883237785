"""Settings, the composition root and the command line: where everything is wired."""
