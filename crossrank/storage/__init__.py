"""Storage: crash-safe saves of files and folders, output locks, and checks of output locations."""
