"""Calendars from maintained libraries."""
