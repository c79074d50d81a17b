"""The cluster manager's pages (web/manage): key figures, members and fees of the clusters one runs."""
