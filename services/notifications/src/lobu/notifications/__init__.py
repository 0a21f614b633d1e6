"""Notifications: email (and later webhooks) for facts from every other lobu service."""
