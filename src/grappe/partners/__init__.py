"""Partners: partner search, calls for partners, B2B meetings and interclustering."""
