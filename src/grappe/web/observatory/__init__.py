"""Pages of the observatory: the saved detection runs, each as a map and a table of potential clusters."""
