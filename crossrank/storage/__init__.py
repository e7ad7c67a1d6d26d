"""Storage: atomic writes of files and folders."""
