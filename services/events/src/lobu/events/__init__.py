"""The events service: the Aktionstag of the Lokale Bündnisse für Familie."""
