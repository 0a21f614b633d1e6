"""The directory: the alliance address database and the source of alliance events."""
