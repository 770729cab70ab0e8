"""Course handouts: upload, release to booked families, and access-checked downloads."""
