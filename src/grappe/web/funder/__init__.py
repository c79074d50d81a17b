"""A funder's pages: the clusters it funds and their key figures."""
