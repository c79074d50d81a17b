"""Partner profiles: what organisations offer and seek, interclustering and the partner search over them."""
