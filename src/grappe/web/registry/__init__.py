"""Pages of the registry: the public directory of cluster organisations and their profiles."""
